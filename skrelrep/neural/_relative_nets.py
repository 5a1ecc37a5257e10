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

from ._docs import net_doc
from ._modules import MLPDecoderModule, MLPEncoderModule
from ._relative_base import RelativeNetBase
from ._tasks import AutoEncoderNetBase, ClassifierNetBase

__all__ = ["RelativeAutoEncoder", "RelativeClassifier"]


@net_doc(
    after="head",
    latent="the ``n_anchors`` similarities",
    anchors="the choice of anchors, ",
)
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
    {{module}}

    {{head}}

    {{n_anchors}}

    {{anchor_selection}}

    {{center}}

    {{normalization}}

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

    {{relative_}}

    {{head_}}

    {{classes_}}

    {{anchor_indices_}}

    {{anchor_inputs_}}

    {{n_anchors_}}

    {{input_shape_}}

    {{n_features_in_}}

    {{feature_names_in_}}

    {{history_}}

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


@net_doc(
    after="decoder",
    latent="the ``n_anchors`` normalised similarities",
    anchors="the choice of anchors, ",
)
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
    {{module}}

    {{decoder}}

    {{n_anchors}}

    {{anchor_selection}}

    {{center}}

    {{normalization}}

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

    {{relative_}}

    {{decoder_}}

    {{anchor_indices_}}

    {{anchor_inputs_}}

    {{n_anchors_}}

    {{input_shape_}}

    {{n_features_in_}}

    {{feature_names_in_}}

    {{history_}}

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
