"""The base class of every similarity: how a row is compared with the anchors."""

from sklearn.base import BaseEstimator

from ..utils._compat import StrOptions
from ..utils._norms import inverse_norms, normalize_rows
from ._projection import chunked_projection

__all__ = ["Similarity", "normalize_similarities"]

NORMALIZATIONS = ("l2", "standard")


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
    at fit time instead of at every block. The transformer handles chunking,
    centring, standardisation, ``exponent`` and ``top_k``.

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

    # Whether pairwise reads CSR blocks as they are; otherwise blocks are densified.
    accepts_sparse = False

    # Whether the values depend on angles seen from the origin (a cosine), so that
    # uncentred anchors crowding in a narrow cone leave them little contrast.
    measures_angles = False

    def refuses_non_finite(self, xp):
        """Whether :meth:`project` itself raises on NaN or infinity in rows of ``X``.

        Then the transformer does not read ``X`` once more to check it first.
        """
        return False

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
            A block of rows, in namespace ``xp`` (a CSR matrix only when the class
            sets ``accepts_sparse = True``).
        anchors : array of shape (n_anchors, n_features)
            The anchors returned by :meth:`prepare_anchors`.
        xp : namespace
            Array namespace of ``X``.

        Returns
        -------
        similarities : array of shape (n_rows, n_outputs(n_anchors))
            In the namespace and dtype of ``X``.
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement pairwise(X, anchors, xp)."
        )

    def n_outputs(self, n_anchors):
        """Number of output columns for ``n_anchors`` anchors (one per anchor)."""
        return n_anchors

    def relative_block(self, X, anchors, xp):
        """:meth:`pairwise`, normalised per row as ``normalization`` asks (if any)."""
        values = self.pairwise(X, anchors, xp)
        return normalize_similarities(values, getattr(self, "normalization", None), xp)

    def project(self, X, anchors, xp, *, mean=None, batch_size=None, device=None):
        """The relative representation of all of ``X``, computed chunk by chunk.

        Parameters
        ----------
        X : array of shape (n_samples, n_features) or CSR matrix
        anchors : array of shape (n_anchors, n_features)
            Prepared anchors (see :meth:`prepare_anchors`).
        xp : namespace of ``X``
        mean : array of shape (n_features,), default=None
            Subtracted from every row first (centring).
        batch_size : int, default=None
            Rows per chunk; by default what fits scikit-learn's ``working_memory``.
        device : device of ``X``, default=None

        Returns
        -------
        similarities : array of shape (n_samples, n_outputs(n_anchors))
        """
        return chunked_projection(
            X, anchors, self, xp, mean=mean, batch_size=batch_size, device=device
        )

    def extra_bytes_per_row(self, n_features, n_anchors, itemsize, numpy_namespace):
        """Scratch memory per row beyond a row of input and two of output."""
        return 0


def normalize_similarities(values, how, xp):
    """Per-row normalisation of a block of similarities.

    ``None`` leaves them; ``"l2"`` scales each row to unit norm; ``"standard"`` gives
    each row zero mean and unit spread across the anchors. Constant rows stay zero.
    """
    if how is None:
        return values
    if how == "l2":
        return normalize_rows(values, xp)
    centred = values - xp.mean(values, axis=1)[:, None]
    spread = xp.sqrt(xp.mean(centred * centred, axis=1))
    return centred * inverse_norms(spread, xp)[:, None]


NORMALIZATION_CONSTRAINT = [StrOptions(set(NORMALIZATIONS)), None]
