"""Distances turned into similarities: Euclidean, L1 (Manhattan), L-infinity.

Each buys a different invariance than the cosine (Cannistraci et al., ICLR 2024): the
Euclidean distance to rotations, reflections and translations, L1 and L-infinity to
permutations and sign flips of the features and to translations. A distance becomes
a similarity by negation, so that "larger is closer" holds for every similarity.
"""

import numpy as np
from sklearn.metrics.pairwise import pairwise_distances
from sklearn.utils import assert_all_finite

from ..utils._array_api import is_numpy_namespace, itemsize
from ..utils._chunks import chunk_n_rows
from ..utils._finite import quiet_finite_check
from ..utils._statistics import column_mean
from ._base import NORMALIZATION_CONSTRAINT, Similarity

__all__ = ["ChebyshevSimilarity", "EuclideanSimilarity", "ManhattanSimilarity"]


class _NegatedDistance(Similarity):
    """``-distance(x, a_j)`` for a metric of :func:`sklearn.metrics.pairwise_distances`."""

    _metric = None  # scikit-learn's name of the metric
    _parameter_constraints: dict = {"normalization": NORMALIZATION_CONSTRAINT}

    def __init__(self, normalization=None):
        self.normalization = normalization

    def pairwise(self, X, anchors, xp):
        """Negated distance of each row of ``X`` to each anchor."""
        return -self._distances(X, anchors, xp)

    def _distances(self, X, anchors, xp):
        if is_numpy_namespace(xp):
            # A distance beyond the dtype's range becomes infinity here, and is
            # refused below with what to do.
            with quiet_finite_check(), np.errstate(over="ignore"):
                distances = pairwise_distances(X, anchors, metric=self._metric)
                return _in_range(distances.astype(X.dtype, copy=False), X, xp)
        # Outside NumPy, a (rows, anchors, features) difference is broadcast: a few
        # rows at a time, within scikit-learn's working_memory.
        n_rows, n_features = X.shape
        rows = chunk_n_rows(n_rows, itemsize(X, xp) * anchors.shape[0] * n_features)
        blocks = []
        for start in range(0, max(n_rows, 1), rows):  # one empty block for no rows
            difference = xp.abs(X[start : start + rows, None, :] - anchors[None, :, :])
            if self._metric == "manhattan":
                blocks.append(xp.sum(difference, axis=2))
            else:
                blocks.append(xp.max(difference, axis=2))
        distances = blocks[0] if len(blocks) == 1 else xp.concat(blocks, axis=0)
        return _in_range(distances, X, xp)


class EuclideanSimilarity(_NegatedDistance):
    """Negated Euclidean distance to each anchor: ``r_x[j] = -||x - a_j||``.

    Invariant to rotations, reflections and translations of the latent space; with
    ``normalization="l2"``, to isotropic rescaling too. Distances are measured from
    the anchors' mean (``|x - o|^2 - 2 (x - o).(a - o) + |a - o|^2`` with one matrix
    product), which keeps the norms, and so the cancellation error, small.

    Parameters
    ----------
    normalization : {"l2", "standard"}, default=None
        Per-row normalisation of the relative vector: unit L2 norm, or zero mean and
        unit spread across the anchors.

    See Also
    --------
    CosineSimilarity : The paper's similarity.
    CombinedSimilarity : Several similarities aggregated.

    References
    ----------
    .. [1] V. Cannistraci et al., "From Bricks to Bridges: Product of Invariances to
       Enhance Latent Space Communication", ICLR 2024. https://arxiv.org/abs/2310.01211

    Examples
    --------
    >>> import numpy as np
    >>> from skrelrep.similarity import EuclideanSimilarity
    >>> X = np.array([[0.0, 0.0], [3.0, 4.0]])
    >>> EuclideanSimilarity().pairwise(X, np.array([[0.0, 0.0]]), np)
    array([[-0.],
           [-5.]])
    """

    name = "euclidean"
    _metric = "euclidean"

    def _distances(self, X, anchors, xp):
        origin = column_mean(anchors, xp)  # cannot overflow
        # Measured from the anchors' mean, in units of the largest entry: squaring
        # can then neither overflow nor underflow, whatever the magnitude. A row
        # whose difference with the mean leaves the dtype's range is farther than
        # the dtype can say: refused in _in_range.
        with np.errstate(over="ignore"):
            centred_anchors, centred = anchors - origin, X - origin
        scale = _largest(centred_anchors, xp)
        unit = centred_anchors / scale
        if is_numpy_namespace(xp):
            if not (np.isfinite(centred).all() and np.isfinite(unit).all()):
                return _in_range(centred, X, xp)  # NaN in X: scikit-learn's error
            distances = super()._distances(centred / scale, unit, xp)
            with np.errstate(over="ignore"):
                return _in_range(distances * X.dtype.type(scale), X, xp)
        centred = centred / scale
        squared = (
            xp.sum(centred * centred, axis=1)[:, None]
            - 2 * (centred @ unit.T)
            + xp.sum(unit * unit, axis=1)[None, :]
        )
        return _in_range(xp.sqrt(xp.clip(squared, 0, None)) * scale, X, xp)


class ManhattanSimilarity(_NegatedDistance):
    """Negated L1 (Manhattan) distance to each anchor: ``r_x[j] = -||x - a_j||_1``.

    Invariant to translations, to permutations of the features and to their sign
    flips (``similarity="l1"``).

    Parameters
    ----------
    normalization : {"l2", "standard"}, default=None
        Per-row normalisation of the relative vector: unit L2 norm, or zero mean and
        unit spread across the anchors.

    See Also
    --------
    ChebyshevSimilarity : The L-infinity distance, with the same invariances.

    Examples
    --------
    >>> import numpy as np
    >>> from skrelrep.similarity import ManhattanSimilarity
    >>> ManhattanSimilarity().pairwise(np.array([[3.0, -4.0]]), np.zeros((1, 2)), np)
    array([[-7.]])
    """

    name = "l1"
    _metric = "manhattan"


class ChebyshevSimilarity(_NegatedDistance):
    """Negated L-infinity (Chebyshev) distance: ``r_x[j] = -max_f |x_f - a_jf|``.

    Invariant to translations, to permutations of the features and to their sign
    flips (``similarity="linf"``).

    Parameters
    ----------
    normalization : {"l2", "standard"}, default=None
        Per-row normalisation of the relative vector: unit L2 norm, or zero mean and
        unit spread across the anchors.

    See Also
    --------
    ManhattanSimilarity : The L1 distance, with the same invariances.

    Examples
    --------
    >>> import numpy as np
    >>> from skrelrep.similarity import ChebyshevSimilarity
    >>> ChebyshevSimilarity().pairwise(np.array([[3.0, -4.0]]), np.zeros((1, 2)), np)
    array([[-4.]])
    """

    name = "linf"
    _metric = "chebyshev"


def _in_range(distances, X, xp):
    """``distances``, or a ``ValueError`` where one leaves the dtype's range.

    ``X`` is finite (validated): a distance that is not is too large for its dtype,
    and an infinite similarity would be a confident wrong value. NaN or infinity in
    ``X`` itself get scikit-learn's error.
    """
    if bool(xp.all(xp.isfinite(distances))):
        return distances
    with quiet_finite_check():
        assert_all_finite(X, input_name="X")
    raise ValueError(
        f"The distances between X and the anchors leave the range of {X.dtype} "
        f"(entries of X up to {float(xp.max(xp.abs(X))):.3g}): they cannot be "
        "represented. Divide X by a power of two (and refit), convert float32 input "
        "to float64, or use similarity='cosine', which ignores the scale."
    )


def _largest(A, xp):
    """The largest absolute entry of ``A`` as a Python float (1 when all are zero)."""
    largest = float(xp.max(xp.abs(A))) if A.shape[0] * A.shape[1] else 0.0
    return largest if largest > 0 else 1.0
