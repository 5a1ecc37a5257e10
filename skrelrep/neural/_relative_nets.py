"""End-to-end relative nets: encoder, relative layer, head or decoder, trained together.

The anchors are rows of the training data chosen in ``fit`` (by the selection code of
:class:`~skrelrep.RelativeTransformer`); the relative layer re-embeds them with the
encoder at every forward pass. Because the head only ever sees cosines to the anchors,
a fitted net keeps working when its encoder is replaced by another one trained
independently (:meth:`~RelativeClassifier.with_encoder`): zero-shot stitching, end to
end. The machinery they share is in ``_relative_base.py``.
"""

import math

import torch
from sklearn.utils.validation import check_is_fitted

from ._modules import MLPDecoderModule, MLPEncoderModule
from ._relative_base import RelativeNetBase
from ._tasks import AutoEncoderNetBase, ClassifierNetBase

__all__ = ["RelativeAutoEncoder", "RelativeClassifier"]


class RelativeClassifier(RelativeNetBase, ClassifierNetBase):
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

    n_anchors : int, float or None, default=300
        Number of anchors chosen among the training rows; a float in ``(0, 1]`` is a
        fraction of them and ``None`` makes every row an anchor. When larger than the
        number of rows, every row becomes an anchor (with a warning). With an array
        of indices as ``anchor_selection``, the first ``n_anchors`` of them (all of
        them when ``None`` or when there are fewer).

    anchor_selection : {"random", "stratified", "fps", "kmeans"}, array-like or \
callable, default="random"
        How anchors are chosen among the training rows, by the selection code of
        :class:`~skrelrep.RelativeTransformer` (the same anchors as a
        ``RelativeTransformer`` with these ``n_anchors``, ``anchor_selection`` and
        ``random_state`` fitted on the flattened inputs): so FPS and k-means compare
        raw inputs, ``"stratified"`` balances the classes of ``y``, an array gives
        the row indices and a callable ``f(X, y, n_anchors=..., random_state=...)``
        returns them.

    center : bool, default=False
        Centre codes and anchor codes on the anchor codes' mean before the cosine.
        Off by default, unlike :class:`~skrelrep.RelativeTransformer`'s: the
        evidence for centring (:ref:`centring_evidence`) was measured on frozen
        encoders, and here the encoder learns through the relative layer, as in the
        paper.

    normalization : {"layernorm"} or None, default="layernorm"
        Normalisation of the similarities before the head.

    criterion : type of torch.nn.Module, default=torch.nn.CrossEntropyLoss
        Loss; with ``criterion__*`` parameters.

    optimizer : type of torch.optim.Optimizer, default=torch.optim.Adam
        Optimizer; with ``optimizer__*`` parameters.

    lr : float, default=1e-3
        Learning rate.

    max_epochs : int, default=20
        Epochs per call to ``fit``.

    batch_size : int, default=128
        Samples per batch, for training and for inference.

    train_split : callable or None, default=None
        Internal validation split of skorch (for example
        ``skorch.dataset.ValidSplit(5)``); ``None`` trains on all the data, as
        scikit-learn estimators do.

    random_state : int, RandomState instance or None, default=None
        Seeds the choice of anchors, the initial weights, the shuffling of batches
        and dropout (through a forked torch RNG, so the global torch RNG is left as
        it was). Two nets with different seeds differ; the same int reproduces a net
        exactly on the same hardware. ``None`` draws from NumPy's and torch's global
        RNGs.

    verbose : int, default=0
        Print skorch's epoch log when positive.

    **kwargs : dict
        Any other :class:`skorch.NeuralNet` parameter (``device``, ``callbacks``,
        ``warm_start``, ...) and the prefixed parameters ``module__*``, ``head__*``,
        ``optimizer__*``, ``iterator_train__*``, ... For example
        ``module__n_components=16`` or ``device="cuda"``.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained encoder.

    relative_ : RelativeProjection
        The relative layer; it holds the anchor inputs as a buffer and runs
        ``module_``.

    head_ : torch.nn.Module
        The trained head.

    classes_ : ndarray of shape (n_classes,)
        Class labels.

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
        """Build the encoder, the relative layer and the head."""
        n_anchors = self._build_relative()
        self.head_ = self._component(
            "head", n_components=n_anchors, n_outputs=len(self.classes_)
        )
        return self

    def _forward(self, x):
        return self.head_(self.relative_(x))


class RelativeAutoEncoder(RelativeNetBase, AutoEncoderNetBase):
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

    n_anchors : int, float or None, default=300
        Number of anchors chosen among the training rows; a float in ``(0, 1]`` is a
        fraction of them and ``None`` makes every row an anchor. When larger than the
        number of rows, every row becomes an anchor (with a warning). With an array
        of indices as ``anchor_selection``, the first ``n_anchors`` of them (all of
        them when ``None`` or when there are fewer).

    anchor_selection : {"random", "stratified", "fps", "kmeans"}, array-like or \
callable, default="random"
        How anchors are chosen among the training rows, by the selection code of
        :class:`~skrelrep.RelativeTransformer` (the same anchors as a
        ``RelativeTransformer`` with these ``n_anchors``, ``anchor_selection`` and
        ``random_state`` fitted on the flattened inputs): so FPS and k-means compare
        raw inputs, ``"stratified"`` needs ``y``, an array gives the row indices and
        a callable ``f(X, y, n_anchors=..., random_state=...)`` returns them.

    center : bool, default=False
        Centre codes and anchor codes on the anchor codes' mean before the cosine.
        Off by default, unlike :class:`~skrelrep.RelativeTransformer`'s: the
        evidence for centring (:ref:`centring_evidence`) was measured on frozen
        encoders, and here the encoder learns through the relative layer, as in the
        paper.

    normalization : {"layernorm"} or None, default="layernorm"
        Normalisation of the similarities before the decoder.

    criterion : type of torch.nn.Module, default=torch.nn.MSELoss
        Loss; with ``criterion__*`` parameters.

    optimizer : type of torch.optim.Optimizer, default=torch.optim.Adam
        Optimizer; with ``optimizer__*`` parameters.

    lr : float, default=1e-3
        Learning rate.

    max_epochs : int, default=20
        Epochs per call to ``fit``.

    batch_size : int, default=128
        Samples per batch, for training and for inference.

    train_split : callable or None, default=None
        Internal validation split of skorch (for example
        ``skorch.dataset.ValidSplit(5)``); ``None`` trains on all the data, as
        scikit-learn estimators do.

    random_state : int, RandomState instance or None, default=None
        Seeds the choice of anchors, the initial weights, the shuffling of batches
        and dropout (through a forked torch RNG, so the global torch RNG is left as
        it was). Two nets with different seeds differ; the same int reproduces a net
        exactly on the same hardware. ``None`` draws from NumPy's and torch's global
        RNGs.

    verbose : int, default=0
        Print skorch's epoch log when positive.

    **kwargs : dict
        Any other :class:`skorch.NeuralNet` parameter (``device``, ``callbacks``,
        ``warm_start``, ...) and the prefixed parameters ``module__*``,
        ``decoder__*``, ``optimizer__*``, ``iterator_train__*``, ... For example
        ``module__n_components=16`` or ``device="cuda"``.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained encoder.

    relative_ : RelativeProjection
        The relative layer; it holds the anchor inputs as a buffer and runs
        ``module_``.

    decoder_ : torch.nn.Module
        The trained decoder.

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
