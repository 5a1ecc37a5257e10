"""The absolute nets: skorch nets whose ``transform`` returns the encoder's code.

:class:`NeuralEncoder` trains an encoder through a classification head;
:class:`AutoEncoder` trains it through a decoder that reconstructs the input. Either
can be the ``encoder`` step of a pipeline followed by a
:class:`~skrelrep.RelativeTransformer`. Their relative counterparts are in
``_relative_nets.py``.
"""

import torch

from ._docs import net_doc
from ._modules import MLPDecoderModule, MLPEncoderModule
from ._tasks import AutoEncoderNetBase, ClassifierNetBase

__all__ = ["AutoEncoder", "NeuralEncoder"]


@net_doc(after="head", latent="the codes")
class NeuralEncoder(ClassifierNetBase):
    """Encoder trained as a classifier; ``transform`` returns its latent code.

    A skorch net with two modules: the encoder ``module_`` and a classification head
    ``head_`` on its code, trained together with cross-entropy. ``predict`` and
    ``predict_proba`` use both; ``transform`` runs the encoder alone, so a fitted
    ``NeuralEncoder`` is the encoder step of a stitching pipeline. Input sizes are
    read from the data: ``module__n_features`` (or ``module__in_channels`` for
    images), and the head's ``n_components`` and ``n_outputs``.

    Parameters
    ----------
    {{module}}

    {{head}}

    {{criterion}}

    {{optimizer}}

    {{lr}}

    {{max_epochs}}

    {{batch_size}}

    {{train_split}}

    {{random_state}}

    {{verbose}}

    {{kwargs}}

    Attributes
    ----------
    {{module_}}

    {{head_}}

    {{classes_}}

    {{input_shape_}}

    {{n_features_in_}}

    {{feature_names_in_}}

    {{history_}}
    history_ : skorch.history.History
        Training history (losses per epoch).

    See Also
    --------
    AutoEncoder : Encoder trained by reconstruction, without labels.
    RelativeClassifier : Encoder and head trained end to end through a relative layer.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skrelrep.neural import NeuralEncoder
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X[:300] / 16
    >>> net = NeuralEncoder(module__n_components=8, max_epochs=3, random_state=0)
    >>> net.fit(X, y[:300]).transform(X).shape
    (300, 8)
    >>> net.predict(X[:4]).shape
    (4,)

    The same seed gives the same net; another seed gives another one:

    >>> same = NeuralEncoder(module__n_components=8, max_epochs=3, random_state=0)
    >>> bool((same.fit(X, y[:300]).transform(X) == net.transform(X)).all())
    True
    """

    def __init__(
        self,
        module=MLPEncoderModule,
        *,
        head=MLPDecoderModule,
        criterion=torch.nn.CrossEntropyLoss,
        **kwargs,
    ):
        self.head = head  # before skorch's __init__, which refuses it afterwards
        super().__init__(module, criterion=criterion, **kwargs)

    def initialize_module(self):
        """Build the encoder ``module_`` and the head ``head_``."""
        self.module_ = self._component("module", **self._input_defaults())
        self.head_ = self._component(
            "head",
            n_components=getattr(self.module_, "n_components", None),
            n_outputs=_n_classes(self),
        )
        return self

    def _forward(self, x):
        return self.head_(self.module_(x).flatten(1))

    def transform(self, X):
        """Latent codes of the encoder.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, ...)
            Inputs in the format seen in ``fit``.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components)
            Codes (float32).
        """
        return self.encode(X)


@net_doc(after="decoder", latent="the codes")
class AutoEncoder(AutoEncoderNetBase):
    """Encoder trained by reconstruction; ``transform`` returns its latent code.

    A skorch net with two modules: the encoder ``module_`` and a decoder ``decoder_``
    that reconstructs the (flattened) input from the code, trained together with the
    mean squared error. No labels are needed. ``transform`` runs the encoder,
    ``inverse_transform`` the decoder.

    Parameters
    ----------
    {{module}}

    {{decoder}}

    {{criterion}}

    {{optimizer}}

    {{lr}}

    {{max_epochs}}

    {{batch_size}}

    {{train_split}}

    {{random_state}}

    {{verbose}}

    {{kwargs}}

    Attributes
    ----------
    {{module_}}

    {{decoder_}}

    {{input_shape_}}

    {{n_features_in_}}

    {{feature_names_in_}}

    {{history_}}

    See Also
    --------
    NeuralEncoder : Encoder trained through a classification head.
    RelativeAutoEncoder : Autoencoder with a relative layer between its two halves.

    Notes
    -----
    skorch's ``predict`` and ``predict_proba`` are not offered: reconstruct with
    ``inverse_transform(transform(X))``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skrelrep.neural import AutoEncoder
    >>> X = load_digits().data[:300] / 16
    >>> ae = AutoEncoder(module__n_components=8, max_epochs=3, random_state=0)
    >>> codes = ae.fit_transform(X)
    >>> codes.shape, codes.dtype
    ((300, 8), dtype('float32'))
    >>> ae.inverse_transform(codes).shape
    (300, 64)
    """

    def __init__(
        self,
        module=MLPEncoderModule,
        *,
        decoder=MLPDecoderModule,
        criterion=torch.nn.MSELoss,
        **kwargs,
    ):
        self.decoder = decoder  # before skorch's __init__, which refuses it afterwards
        super().__init__(module, criterion=criterion, **kwargs)

    def initialize_module(self):
        """Build the encoder ``module_`` and the decoder ``decoder_``."""
        self.module_ = self._component("module", **self._input_defaults())
        self.decoder_ = self._component(
            "decoder",
            n_components=getattr(self.module_, "n_components", None),
            n_outputs=self._input_defaults().get("n_features"),
        )
        return self

    def _forward(self, x):
        return self.decoder_(self.module_(x).flatten(1))

    def transform(self, X):
        """Latent codes of the encoder.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, ...)
            Inputs in the format seen in ``fit``.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components)
            Codes (float32).
        """
        return self.encode(X)

    def inverse_transform(self, X):
        """Decode latent codes back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Latent codes.

        Returns
        -------
        X_original : ndarray of shape (n_samples, *input_shape_)
            Reconstructions, float32.
        """
        return self._decode(X, self.decoder_)


def _n_classes(net):
    """Number of head outputs: the classes seen in fit, unless set explicitly."""
    if hasattr(net, "classes_"):
        return len(net.classes_)
    if "n_outputs" in net.get_params_for("head") or isinstance(
        net.head, torch.nn.Module
    ):
        return None
    raise ValueError(
        f"{type(net).__name__} sizes its head from the classes seen in fit: call "
        "fit(X, y) (or partial_fit with classes=), or set head__n_outputs."
    )
