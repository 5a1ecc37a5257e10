"""The base class of every similarity: how a row is compared with the anchors."""

from sklearn.base import BaseEstimator

from ..utils._compat import StrOptions

__all__ = ["NORMALIZATION_CONSTRAINT", "Similarity"]

#: The ``normalization`` parameter of the built-in similarities.
NORMALIZATION_CONSTRAINT = [StrOptions({"l2", "standard"}), None]


class Similarity(BaseEstimator):
    """Base class for the similarities of a relative projection.

    A similarity compares each row of a block of (centred, scaled) embeddings with
    each anchor and returns one value per pair: the columns of the relative
    representation. Like scikit-learn's Gaussian-process kernels, similarities are
    small objects with :meth:`get_params` and :meth:`set_params`, so they clone with
    the estimator that holds them and their parameters are searchable by
    :class:`~sklearn.model_selection.GridSearchCV` through nested names
    (``relativetransformer__similarity__normalization``).

    To plug in a similarity of your own, subclass this class and implement
    :meth:`pairwise`; override :meth:`prepare_anchors` to prepare the anchors once
    at fit time instead of at every block, and set the three class attributes below
    where the defaults do not hold. The transformer handles chunking, centring,
    standardisation, a ``normalization`` parameter (if the similarity has one),
    ``exponent`` and ``top_k``. Read more in the :ref:`User Guide
    <custom_similarity>`.

    Attributes
    ----------
    accepts_sparse : bool, default=False
        Whether :meth:`pairwise` reads CSR blocks as they are; otherwise sparse rows
        are densified one chunk at a time.

    measures_angles : bool, default=False
        Whether the values depend on angles seen from the origin (as a cosine
        does): only then does ``fit`` warn when uncentred anchors crowd in a
        narrow cone, which leaves such values little contrast.

    outputs_per_anchor : int, default=1
        Columns of :meth:`pairwise`'s result per anchor.

    Examples
    --------
    A dot-product similarity, which keeps the scale of the embeddings:

    >>> import numpy as np
    >>> from skrelrep import RelativeTransformer
    >>> from skrelrep.similarity import Similarity
    >>> class DotProduct(Similarity):
    ...     def pairwise(self, X, anchors, xp):
    ...         return X @ anchors.T
    >>> X = np.random.RandomState(0).normal(size=(50, 4))
    >>> relative = RelativeTransformer(
    ...     5, similarity=DotProduct(), center=False, random_state=0
    ... )
    >>> R = relative.fit_transform(X)
    >>> bool(np.allclose(R, X @ X[relative.anchor_indices_].T))
    True
    """

    accepts_sparse = False
    measures_angles = False
    outputs_per_anchor = 1

    def prepare_anchors(self, anchors, xp):
        """The anchors as :meth:`pairwise` reads them, computed once at fit time.

        Parameters
        ----------
        anchors : array of shape (n_anchors, n_features)
            The anchor embeddings, centred and scaled as the transformer asks.
        xp : namespace
            Array namespace of ``anchors``.

        Returns
        -------
        prepared : array of shape (n_anchors, n_features)
            By default ``anchors`` unchanged.
        """
        return anchors

    def pairwise(self, X, anchors, xp):
        """Similarity of each row of ``X`` to each prepared anchor.

        Parameters
        ----------
        X : array of shape (n_rows, n_features)
            A block of rows, in namespace ``xp`` (a CSR matrix only when
            ``accepts_sparse`` is true).
        anchors : array of shape (n_anchors, n_features)
            The anchors returned by :meth:`prepare_anchors`.
        xp : namespace
            Array namespace of ``X``.

        Returns
        -------
        similarities : array of shape (n_rows, outputs_per_anchor * n_anchors)
            In the namespace and dtype of ``X``.
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement pairwise(X, anchors, xp)."
        )
