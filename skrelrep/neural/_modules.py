"""Ready-made torch modules: an MLP encoder, a small CNN encoder and an MLP decoder.

They are plain :class:`torch.nn.Module` classes, meant to be passed uninstantiated to the
nets of :mod:`skrelrep.neural` and configured through skorch's ``module__*``,
``head__*`` and ``decoder__*`` parameters. Each encoder exposes ``n_components``, the
width of its latent code, which the nets read to size the next module.
"""

import math
import numbers

from torch import nn

__all__ = ["CNNEncoderModule", "MLPDecoderModule", "MLPEncoderModule"]


def _mlp(n_inputs, hidden_units, n_outputs, activation, dropout):
    """Linear layers with ``activation`` (and dropout) between them, none at the end."""
    layers = []
    width = n_inputs
    for units in hidden_units:
        layers += [nn.Linear(width, units), activation()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = units
    layers.append(nn.Linear(width, n_outputs))
    return nn.Sequential(*layers)


class MLPEncoderModule(nn.Module):
    """Multi-layer perceptron that maps (flattened) inputs to a latent code.

    Parameters
    ----------
    n_features : int
        Number of input features. Inputs with more than two dimensions (images) are
        flattened first, so this is the product of the per-sample dimensions. The nets
        of :mod:`skrelrep.neural` fill it in from the training data.

    n_components : int, default=32
        Width of the latent code.

    hidden_units : tuple of int, default=(128,)
        Width of each hidden layer; ``()`` gives a linear encoder.

    activation : type of torch.nn.Module, default=torch.nn.ReLU
        Class of the non-linearity after each hidden layer.

    dropout : float, default=0.0
        Dropout probability after each hidden layer (0 disables it).

    Examples
    --------
    >>> import torch
    >>> from skrelrep.neural import MLPEncoderModule
    >>> encoder = MLPEncoderModule(n_features=64, n_components=8)
    >>> encoder(torch.zeros(5, 64)).shape
    torch.Size([5, 8])
    """

    def __init__(
        self,
        n_features,
        n_components=32,
        hidden_units=(128,),
        activation=nn.ReLU,
        dropout=0.0,
    ):
        super().__init__()
        self.n_features = n_features
        self.n_components = n_components
        self.layers = _mlp(n_features, hidden_units, n_components, activation, dropout)

    def forward(self, X):
        return self.layers(X.flatten(1))


class CNNEncoderModule(nn.Module):
    """Small convolutional encoder for images.

    Each block is a same-padded convolution, the non-linearity and a 2×2 max pooling;
    an adaptive average pooling to ``pooled_size × pooled_size`` then makes the linear
    output layer independent of the image size.

    It reads images shaped ``(n_samples, in_channels, height, width)``, or
    ``(n_samples, height, width)`` with one channel, as they are, and flat rows
    reshaped to images of ``image_size``.

    Parameters
    ----------
    n_components : int, default=32
        Width of the latent code.

    in_channels : int, default=1
        Number of image channels.

    image_size : int, tuple of (int, int) or None, default=None
        Height and width of the images, to reshape flat inputs
        ``(n_samples, in_channels * height * width)``; images shaped
        ``(n_samples, in_channels, height, width)`` need none.

    channels : tuple of int, default=(16, 32)
        Output channels of each convolution block.

    kernel_size : int, default=3
        Side of the convolution kernels (odd, so that padding keeps the size).

    pooled_size : int, default=2
        Side of the feature map after the adaptive average pooling.

    activation : type of torch.nn.Module, default=torch.nn.ReLU
        Class of the non-linearity after each convolution.

    Examples
    --------
    >>> import torch
    >>> from skrelrep.neural import CNNEncoderModule
    >>> encoder = CNNEncoderModule(n_components=8, image_size=8)
    >>> encoder(torch.zeros(5, 64)).shape
    torch.Size([5, 8])
    >>> encoder(torch.zeros(5, 1, 8, 8)).shape
    torch.Size([5, 8])
    """

    def __init__(
        self,
        n_components=32,
        in_channels=1,
        image_size=None,
        channels=(16, 32),
        kernel_size=3,
        pooled_size=2,
        activation=nn.ReLU,
    ):
        super().__init__()
        self.n_components = n_components
        self.in_channels = in_channels
        if isinstance(image_size, numbers.Integral):
            image_size = (int(image_size), int(image_size))
        self.image_size = None if image_size is None else tuple(image_size)
        blocks = []
        width = in_channels
        for out_channels in channels:
            blocks += [
                nn.Conv2d(width, out_channels, kernel_size, padding=kernel_size // 2),
                activation(),
                nn.MaxPool2d(2, ceil_mode=True),  # ceil: odd sizes keep their edge
            ]
            width = out_channels
        blocks.append(nn.AdaptiveAvgPool2d(pooled_size))
        self.features = nn.Sequential(*blocks)
        self.head = nn.Linear(width * pooled_size**2, n_components)

    def forward(self, X):
        return self.head(self.features(self._as_images(X)).flatten(1))

    def _as_images(self, X):
        if X.ndim == 4:
            return X
        if X.ndim == 3 and self.in_channels == 1:
            return X.unsqueeze(1)
        if X.ndim == 2 and self.image_size is not None:
            expected = self.in_channels * math.prod(self.image_size)
            if X.shape[1] != expected:
                raise ValueError(
                    f"CNNEncoderModule expected {expected} features per sample "
                    f"(in_channels={self.in_channels} × image_size="
                    f"{self.image_size}), got {X.shape[1]}."
                )
            return X.reshape(X.shape[0], self.in_channels, *self.image_size)
        raise ValueError(
            "CNNEncoderModule needs images of shape (n_samples, channels, height, "
            f"width); got an input of shape {tuple(X.shape)}. Pass image_size "
            "(module__image_size) to reshape flat rows into images."
        )


class MLPDecoderModule(nn.Module):
    """Multi-layer perceptron from a code to outputs: a classification head or decoder.

    As a classification head it returns logits (pair it with
    :class:`torch.nn.CrossEntropyLoss`); as an autoencoder's decoder it returns the
    flattened reconstruction.

    Parameters
    ----------
    n_components : int
        Width of the input code. The nets of :mod:`skrelrep.neural` fill it in (the
        encoder's ``n_components``, or the number of anchors after a relative layer).

    n_outputs : int
        Number of outputs: classes for a head, input features for a decoder. Filled in
        by the nets.

    hidden_units : tuple of int, default=(128,)
        Width of each hidden layer; ``()`` gives a linear map.

    activation : type of torch.nn.Module, default=torch.nn.ReLU
        Class of the non-linearity after each hidden layer.

    dropout : float, default=0.0
        Dropout probability after each hidden layer (0 disables it).

    output_activation : type of torch.nn.Module or None, default=None
        Class of a non-linearity applied to the output, for example
        :class:`torch.nn.Sigmoid` to reconstruct inputs scaled to ``[0, 1]``.

    Examples
    --------
    >>> import torch
    >>> from skrelrep.neural import MLPDecoderModule
    >>> head = MLPDecoderModule(n_components=8, n_outputs=10, hidden_units=())
    >>> head(torch.zeros(5, 8)).shape
    torch.Size([5, 10])
    """

    def __init__(
        self,
        n_components,
        n_outputs,
        hidden_units=(128,),
        activation=nn.ReLU,
        dropout=0.0,
        output_activation=None,
    ):
        super().__init__()
        self.n_components = n_components
        self.n_outputs = n_outputs
        self.layers = _mlp(n_components, hidden_units, n_outputs, activation, dropout)
        self.output_activation = (
            nn.Identity() if output_activation is None else output_activation()
        )

    def forward(self, Z):
        return self.output_activation(self.layers(Z))
