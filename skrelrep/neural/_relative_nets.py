"""End-to-end relative nets: encoder, relative layer, head, trained together.

The anchors are rows of the training data chosen in ``fit`` (with the strategies of
:class:`~skrelrep.RelativeTransformer`); the relative layer re-embeds them with the
encoder at every forward pass. Because the head only ever sees cosines to the anchors,
a fitted net keeps working when its encoder is replaced by another one trained
independently (:meth:`with_encoder`): zero-shot stitching, end to end.
"""

import math

import numpy as np
import torch
from sklearn.base import (
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNet
from skorch.utils import is_dataset

from .._relative import RelativeTransformer
from ..utils._array_api import to_numpy
from ..utils._compat import StrOptions
from ._base import AutoEncoderMixin, ClassifierNetMixin, NetMixin
from ._modules import MLPDecoderModule, MLPEncoderModule
from ._nets import _SKORCH_PARAMETERS
from ._relative_layer import RelativeProjection

__all__ = ["RelativeAutoEncoder", "RelativeClassifier"]

_RELATIVE_PARAMETERS = """
    n_anchors : int, float or None, default=300
        Number of anchors chosen among the training rows; a float in ``(0, 1]`` is a
        fraction of them and ``None`` makes every row an anchor. When larger than the
        number of rows, every row becomes an anchor (with a warning). Ignored when
        ``anchor_selection`` gives indices.

    anchor_selection : {{"random", "stratified", "fps", "kmeans"}}, array-like or \
callable, default="random"
        How anchors are chosen among the training rows: by a
        :class:`~skrelrep.RelativeTransformer` with these ``n_anchors``,
        ``anchor_selection`` and ``random_state``, fitted on the flattened inputs
        (so FPS and k-means compare raw inputs; ``"stratified"`` needs ``y``).

    center : bool, default=False
        Centre codes and anchor codes on the anchor codes' mean before the cosine.

    normalization : {{"layernorm"}} or None, default="layernorm"
        Normalisation of the similarities before the {other}.
"""

_RELATIVE_ATTRIBUTES = """
    module_ : torch.nn.Module
        The trained encoder.

    relative_ : RelativeProjection
        The relative layer; it holds the anchor inputs as a buffer and runs
        ``module_``.

    anchor_indices_ : ndarray of shape (n_anchors_,)
        Rows of the training data that became anchors, in anchor order.

    anchor_inputs_ : ndarray of shape (n_anchors_, ...)
        The anchor inputs (float32), in the input format of the encoder.

    n_anchors_ : int
        Number of anchors.

    input_shape_ : tuple of int
        Shape of one input sample seen in ``fit``.

    n_features_in_ : int
        Number of features (or channels, for images) seen in ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, for DataFrame input with string column
        names.

    history_ : skorch.history.History
        Training history.
"""


class _RelativeNetMixin:
    """Anchor selection, the relative layer and encoder swapping with parallel anchors."""

    # The anchors are chosen exactly as RelativeTransformer chooses them (it does
    # the choosing, in _prepare_fit), so its constraints apply as they are.
    _parameter_constraints: dict = {
        **NetMixin._parameter_constraints,
        "n_anchors": RelativeTransformer._parameter_constraints["n_anchors"],
        "anchor_selection": RelativeTransformer._parameter_constraints[
            "anchor_selection"
        ],
        "center": ["boolean"],
        "normalization": [StrOptions({"layernorm"}), None],
    }

    def _prepare_fit(self, X, y):
        """Choose the anchors among the rows of ``X`` (before the modules exist)."""
        if is_dataset(X):
            raise TypeError(
                f"{type(self).__name__} chooses its anchors among the training rows: "
                "pass an array or tensor, not a skorch Dataset."
            )
        rows = to_numpy(X)
        selection = RelativeTransformer(
            n_anchors=self.n_anchors,
            anchor_selection=self.anchor_selection,
            random_state=self.random_state,
        ).fit(rows.reshape(rows.shape[0], -1), y)
        self.anchor_indices_ = selection.anchor_indices_
        self.anchor_inputs_ = np.ascontiguousarray(
            rows[selection.anchor_indices_], dtype=np.float32
        )

    def _build_relative(self):
        """Build ``module_`` and ``relative_``; returns the number of anchors."""
        if not hasattr(self, "anchor_inputs_"):
            raise ValueError(
                f"{type(self).__name__} chooses its anchors among the training rows: "
                "call fit before using the net."
            )
        self.module_ = self._component("module", **self._input_defaults())
        self.relative_ = RelativeProjection(
            self.module_,
            self.anchor_inputs_,
            center=self.center,
            normalization=self.normalization,
        )
        return self.relative_.n_anchors

    @property
    def n_anchors_(self):
        return self.relative_.n_anchors

    def transform(self, X):
        """Relative representation: cosine of each code to each anchor code.

        The raw cosines, before the normalisation that feeds the head; they agree
        with :class:`~skrelrep.RelativeTransformer` fitted on the anchor codes.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, ...)
            Inputs in the format of the encoder.

        Returns
        -------
        R : ndarray of shape (n_samples, n_anchors_)
            Similarities (float32).
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._map_batches(self.relative_.similarities, X)

    def with_encoder(self, encoder, *, anchor_inputs=None):
        """Return a copy of this fitted net that runs another encoder.

        The relative layer (anchors and normalisation) and the head or decoder are
        kept as trained; the new encoder embeds the same anchor items. Nothing is
        refitted and ``self`` is unchanged. This is zero-shot stitching: the encoder
        may come from a net trained independently, with another seed, width or
        architecture.

        Parameters
        ----------
        encoder : fitted net, FrozenEstimator of a fitted net, or torch.nn.Module
            Where to take the encoder from (its ``module_`` for a net); copied.

        anchor_inputs : array-like or torch.Tensor of shape (n_anchors_, ...), \
default=None
            The anchor items in the new encoder's input format, in anchor order
            (parallel anchors, for an encoder that reads another domain). By
            default the current ``anchor_inputs_``.

        Returns
        -------
        net : object
            A fitted net of the same class that predicts through the new encoder.
        """
        return super().with_encoder(encoder, anchor_inputs=anchor_inputs)

    def _install_encoder(self, module, source, anchor_inputs=None):
        anchors = None
        if anchor_inputs is not None:
            anchors = _as_float32_array(anchor_inputs)
            if anchors.shape[0] != self.n_anchors_:
                raise ValueError(
                    f"anchor_inputs must hold one row per anchor: got "
                    f"{anchors.shape[0]} rows for {self.n_anchors_} anchors."
                )
            self.anchor_inputs_ = anchors
            if source is None:  # the input format is now the anchors' format
                self.input_shape_ = tuple(anchors.shape[1:])
                self.n_features_in_ = anchors.shape[1]
                if hasattr(self, "feature_names_in_"):
                    del self.feature_names_in_
        relative = self.relative_.with_encoder(module, anchors)
        try:
            with torch.no_grad():
                module.eval()
                module(relative.anchors[:1])
        except (RuntimeError, ValueError) as exc:
            raise ValueError(
                "The new encoder cannot read the anchor inputs. If it reads another "
                "domain, pass the same anchor items in its format as anchor_inputs "
                "(parallel anchors)."
            ) from exc
        self.relative_ = relative

    @property
    def _n_features_out(self):
        return self.n_anchors_


class RelativeClassifier(
    _RelativeNetMixin,
    ClassifierNetMixin,
    NetMixin,
    ClassNamePrefixFeaturesOutMixin,
    ClassifierMixin,
    TransformerMixin,
    NeuralNet,
):
    """Classifier trained end to end through a relative layer; its encoder is swappable.

    Encoder ``module_`` → :class:`RelativeProjection` ``relative_`` (cosine of the
    batch codes to the codes of anchor inputs embedded by the same encoder at every
    forward pass, then a LayerNorm) → classification head ``head_``, trained with
    cross-entropy, as in Moschella et al. (2023). The head sees only angles between
    codes, so :meth:`with_encoder` can replace the encoder with one trained
    independently (another seed, width or architecture) and the net still classifies
    without retraining. ``transform`` returns the relative representation.

    Parameters
    ----------
    module : type of torch.nn.Module or torch.nn.Module, default=MLPEncoderModule
        The encoder, configured with ``module__*`` parameters.

    head : type of torch.nn.Module or torch.nn.Module, default=MLPDecoderModule
        The classification head on the ``n_anchors`` similarities, returning logits;
        configured with ``head__*`` parameters.
    {relative}{parameters}
    Attributes
    ----------
    {attributes}
    head_ : torch.nn.Module
        The trained head.

    classes_ : ndarray of shape (n_classes,)
        Class labels.

    See Also
    --------
    NeuralEncoder : The same without the relative layer (absolute codes).
    RelativeAutoEncoder : Relative layer between an encoder and a decoder.
    skrelrep.RelativeTransformer : Relative projection of fixed embeddings.

    References
    ----------
    .. [1] L. Moschella, V. Maiorca, M. Fumero, A. Norelli, F. Locatello and
       E. Rodolà, "Relative representations enable zero-shot latent space
       communication", ICLR 2023. https://arxiv.org/abs/2209.15430

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skrelrep.neural import RelativeClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X[:300] / 16
    >>> params = dict(n_anchors=20, module__n_components=8, max_epochs=3)
    >>> model_a = RelativeClassifier(**params, random_state=0).fit(X, y[:300])
    >>> model_b = RelativeClassifier(**params, random_state=1).fit(X, y[:300])
    >>> model_a.transform(X).shape
    (300, 20)

    Stitch: ``model_a``'s relative layer and head on ``model_b``'s encoder.

    >>> stitched = model_a.with_encoder(model_b)
    >>> stitched.predict(X[:4]).shape
    (4,)
    """

    __doc__ = __doc__.format(
        relative=_RELATIVE_PARAMETERS.format(other="head"),
        parameters=_SKORCH_PARAMETERS.format(
            criterion="torch.nn.CrossEntropyLoss", other="head"
        ),
        attributes=_RELATIVE_ATTRIBUTES.lstrip("\n").lstrip(),
    )

    def __init__(
        self,
        module=MLPEncoderModule,
        *,
        head=MLPDecoderModule,
        n_anchors=300,
        anchor_selection="random",
        center=False,
        normalization="layernorm",
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=20,
        batch_size=128,
        train_split=None,
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        self.head = head
        self.n_anchors = n_anchors
        self.anchor_selection = anchor_selection
        self.center = center
        self.normalization = normalization
        self.random_state = random_state
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            verbose=verbose,
            **kwargs,
        )

    def initialize_module(self):
        """Build the encoder, the relative layer and the head."""
        n_anchors = self._build_relative()
        self.head_ = self._component(
            "head", n_components=n_anchors, n_outputs=len(self.classes_)
        )
        return self

    def _forward(self, x):
        return self.head_(self.relative_(x))


class RelativeAutoEncoder(
    _RelativeNetMixin,
    AutoEncoderMixin,
    NetMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    NeuralNet,
):
    """Autoencoder with a relative layer between encoder and decoder.

    Encoder ``module_`` → :class:`RelativeProjection` ``relative_`` → decoder
    ``decoder_`` reconstructing the flattened input, trained with the mean squared
    error (the paper's relative autoencoders). No labels are needed (``y`` is used
    only by ``anchor_selection="stratified"``). The decoder reads only the relative
    representation, so :meth:`with_encoder` can swap in an encoder trained
    independently. ``transform`` returns the relative representation;
    ``inverse_transform`` decodes it.

    Parameters
    ----------
    module : type of torch.nn.Module or torch.nn.Module, default=MLPEncoderModule
        The encoder, configured with ``module__*`` parameters.

    decoder : type of torch.nn.Module or torch.nn.Module, default=MLPDecoderModule
        Maps the ``n_anchors`` normalised similarities to flat reconstructions;
        configured with ``decoder__*`` parameters.
    {relative}{parameters}
    Attributes
    ----------
    {attributes}
    decoder_ : torch.nn.Module
        The trained decoder.

    See Also
    --------
    AutoEncoder : The same without the relative layer.
    RelativeClassifier : Relative layer between an encoder and a classification head.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skrelrep.neural import RelativeAutoEncoder
    >>> X = load_digits().data[:300] / 16
    >>> ae = RelativeAutoEncoder(n_anchors=20, max_epochs=3, random_state=0).fit(X)
    >>> R = ae.transform(X)
    >>> R.shape, ae.inverse_transform(R).shape
    ((300, 20), (300, 64))
    """

    __doc__ = __doc__.format(
        relative=_RELATIVE_PARAMETERS.format(other="decoder"),
        parameters=_SKORCH_PARAMETERS.format(
            criterion="torch.nn.MSELoss", other="decoder"
        ),
        attributes=_RELATIVE_ATTRIBUTES.lstrip("\n").lstrip(),
    )

    def __init__(
        self,
        module=MLPEncoderModule,
        *,
        decoder=MLPDecoderModule,
        n_anchors=300,
        anchor_selection="random",
        center=False,
        normalization="layernorm",
        criterion=torch.nn.MSELoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=20,
        batch_size=128,
        train_split=None,
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        self.decoder = decoder
        self.n_anchors = n_anchors
        self.anchor_selection = anchor_selection
        self.center = center
        self.normalization = normalization
        self.random_state = random_state
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            verbose=verbose,
            **kwargs,
        )

    def initialize_module(self):
        """Build the encoder, the relative layer and the decoder."""
        n_anchors = self._build_relative()
        self.decoder_ = self._component(
            "decoder",
            n_components=n_anchors,
            n_outputs=math.prod(self.input_shape_),
        )
        return self

    def _forward(self, x):
        return self.decoder_(self.relative_(x))

    def inverse_transform(self, X):
        """Decode relative representations (as returned by ``transform``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_anchors_)
            Raw similarities to the anchors.

        Returns
        -------
        X_original : ndarray of shape (n_samples, *input_shape_)
            Reconstructions, float32.
        """
        check_is_fitted(self)
        norm = self.relative_.norm
        if norm is None:
            return self._decode(X, self.decoder_)
        return self._decode(X, lambda r: self.decoder_(norm(r)))


def _as_float32_array(X):
    if isinstance(X, torch.Tensor):
        return X.detach().cpu().numpy().astype(np.float32, copy=False)
    return np.ascontiguousarray(np.asarray(X), dtype=np.float32)
