"""A fingerprint of the anchors' space, to refuse rows that cannot come from it.

Two encoders of the same width (MiniLM and multilingual-e5 are both 384-d) pass every
shape check, and the relative projection or the translation of one's codes on the
other's anchors is silently meaningless. :class:`InputSpace` keeps, at fit, a few
statistics of the anchors that held-out rows of the same encoder share, and
:meth:`InputSpace.check` compares a batch with them in one pass over its rows:

- **direction**: the mean cosine of the rows with the anchors' mean direction.
  Embeddings crowd around a direction of their own (multilingual-e5: mean pairwise
  cosine 0.80; MiniLM: 0.08-0.10; ReLU codes: 0.7), and another encoder's rows are
  all but orthogonal to it (-0.02-0.08 of the anchors' value on 100 rows). Angles
  only, so rescaling rows changes nothing; used by both estimators.
- **norm** (``LatentTranslator`` only, whose map is affine in the raw coordinates):
  the geometric mean of the rows' norms against the anchors'; a factor 10 beyond
  their spread, or any factor above 1 % when every anchor has one norm (L2-normalised
  codes, then queries that were not normalised, or the reverse).

A batch is refused when its statistic falls outside what the anchors' own spread
allows for that many rows (see ``_direction_floor``), with a margin wide enough that
held-out batches of the same encoder, down to one row and including other topics,
languages and single words, never are (measurements in :ref:`input_space_guard`).
Where the anchors have no direction of their own (mean pairwise cosine below
``MIN_CROWDING``, such as centred or isotropic data), or there are fewer than
``MIN_ANCHORS``, the direction is not checked: it cannot tell spaces apart there.
"""

import contextlib
import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..utils._array_api import is_numpy_namespace, to_namespace, to_numpy
from ..utils._norms import row_norms

__all__ = ["InputSpace", "width_hint"]

# Below this mean pairwise cosine the anchors' mean direction is too weak to tell a
# space from another (MiniLM, the least crowded encoder shipped, scores 0.08).
MIN_CROWDING = 0.05
# Fewer anchors give too rough a spread.
MIN_ANCHORS = 20
# A batch must point at least this fraction of the anchors' way (held-out topics of
# the shipped encoders score 0.49 or more, other encoders -0.02-0.08 on 100 rows) ...
DIRECTION_FRACTION = 0.25
# ... less this many standard errors of a batch of its size.
N_ERRORS = 3.0
# A factor on the typical row norm beyond the anchors' spread, and the one allowed
# when every anchor has the same norm (normalised codes, up to rounding).
NORM_FACTOR = 10.0
UNIT_NORM_FACTOR = 1.01
# Rows read from a larger batch.
MAX_ROWS = 4096
_SAME_NORM = 1e-3  # spread of log norms below which the anchors count as one norm


@dataclass(frozen=True)
class InputSpace:
    """Statistics of the anchors that rows of their space share (NumPy, float64).

    ``direction`` is the anchors' mean unit row, normalised (None when the anchors
    do not crowd enough for it to identify their space); ``expected`` the mean
    cosine that a held-out row has with it, ``spread`` its standard deviation over
    the anchors, ``low`` its 5th percentile and ``lowest`` its minimum. The
    ``log_norm*`` fields summarise the natural log of the anchors' row norms.
    """

    direction: np.ndarray = None
    crowding: float = 0.0
    expected: float = 0.0
    spread: float = 0.0
    low: float = 0.0
    lowest: float = 0.0
    log_norm: float = None
    log_norm_spread: float = 0.0
    log_norm_deviation: float = 0.0

    @classmethod
    def from_anchors(cls, anchors):
        """The fingerprint of raw (uncentred) anchor embeddings, any namespace."""
        if sp.issparse(anchors):
            anchors = anchors.toarray()
        # The anchors are few: their statistics are computed on the host.
        anchors = np.asarray(to_numpy(anchors), dtype=np.float64)
        norms = row_norms(anchors, np)
        positive = norms > 0
        if positive.sum() < MIN_ANCHORS:
            return cls()
        log_norms = np.log(norms[positive])
        norm_fields = {
            "log_norm": float(log_norms.mean()),
            "log_norm_spread": float(log_norms.std()),
            "log_norm_deviation": float(np.abs(log_norms - log_norms.mean()).max()),
        }
        unit = anchors[positive] / norms[positive, None]
        n_unit = unit.shape[0]
        total = unit.sum(axis=0)
        # The mean pairwise cosine, the diagonal left out: unbiased for few anchors.
        crowding = (float(total @ total) - n_unit) / (n_unit * (n_unit - 1))
        if crowding < MIN_CROWDING:
            return cls(crowding=crowding, **norm_fields)
        length = float(np.linalg.norm(total))
        direction = total / length
        cosines = unit @ direction
        return cls(
            direction=direction,
            crowding=crowding,
            # A held-out row's expected cosine: the anchors' own mean (length / n)
            # is inflated by each anchor's share in the direction.
            expected=crowding * n_unit / length,
            spread=float(cosines.std()),
            low=float(np.quantile(cosines, 0.05)),
            lowest=float(cosines.min()),
            **norm_fields,
        )

    def check(self, X, xp, *, device, estimator, hint, anchors="anchors", norms=False):
        """Raise a ``ValueError`` when the rows of ``X`` cannot be from this space.

        ``X`` is a validated 2-D array of any namespace, or a CSR matrix: one pass
        over at most ``MAX_ROWS`` of its rows, evenly spaced (their norms and one
        product with ``direction``), and two scalars brought to the host. ``norms``
        also compares the rows' typical norm.
        """
        if self.direction is None and not (norms and self.log_norm is not None):
            return
        if sp.issparse(X) or is_numpy_namespace(xp):
            xp = np
        if X.shape[0] > MAX_ROWS:
            # Evenly spaced rows (a view for arrays): the statistics have converged
            # long before, and the check stays a small fraction of the projection.
            X = X[:: -(-X.shape[0] // MAX_ROWS)]
        row_norm = row_norms(X, xp)
        positive = row_norm > 0
        n_rows = int(xp.sum(xp.astype(positive, xp.int64)))
        if n_rows == 0:  # zero rows project to zero in any space
            return
        safe = xp.where(positive, row_norm, xp.ones_like(row_norm))
        name = type(estimator).__name__
        if self.direction is not None:
            direction = xp.astype(to_namespace(self.direction, xp, device), X.dtype)
            cosines = xp.where(positive, (X @ direction) / safe, xp.zeros_like(safe))
            mean_cosine = float(xp.sum(cosines)) / n_rows
            floor = self._direction_floor(n_rows)
            if mean_cosine < floor:
                raise ValueError(
                    f"X does not look like rows of the space this {name} was fitted "
                    f"on: the mean cosine of its {n_rows} nonzero rows with the "
                    f"{anchors}' mean direction is {mean_cosine:.2f}, against "
                    f"{self.expected:.2f} for rows of that space (refused below "
                    f"{floor:.2f} for {n_rows} rows). Input from another encoder? "
                    "Rows of another model, even one of the same width, give "
                    f"meaningless results. {hint} If these rows are right, pass "
                    "check_input_space=False."
                )
        if norms and self.log_norm is not None:
            logs = xp.where(positive, xp.log(safe), xp.zeros_like(safe))
            log_norm = float(xp.sum(logs)) / n_rows
            limit = self._norm_limit(n_rows)
            if abs(log_norm - self.log_norm) > limit:
                raise ValueError(
                    f"X does not look like rows of the space this {name} was fitted "
                    f"on: the typical norm (geometric mean) of its {n_rows} nonzero "
                    f"rows is {math.exp(log_norm):.3g}, against "
                    f"{math.exp(self.log_norm):.3g} for the {anchors} (refused "
                    f"beyond a factor of {math.exp(limit):.3g}). Unnormalised "
                    "embeddings given to a map fitted on normalised ones (or the "
                    "reverse), or input from another encoder? Preprocess X as the "
                    f"{anchors} were. {hint} If these rows are right, pass "
                    "check_input_space=False."
                )

    def _direction_floor(self, n_rows):
        """The lowest mean cosine a batch of ``n_rows`` rows of this space may have.

        A fraction of the anchors' value (or their 5th percentile, for anchors made
        of clusters pointing different ways), less three standard errors of a batch
        of that size, and never above what one row as extreme as the most extreme
        anchor allows: every anchor passes on its own.
        """
        base = min(DIRECTION_FRACTION * self.expected, self.low)
        tolerance = max(
            N_ERRORS * self.spread / math.sqrt(n_rows),
            (self.low - self.lowest) / n_rows,
        )
        # Rounding of float32 input: a hair below the bound is not a breach.
        return base - tolerance - 1e-3

    def _norm_limit(self, n_rows):
        """The largest |log| factor between a batch's typical norm and the anchors'."""
        factor = (
            UNIT_NORM_FACTOR if self.log_norm_deviation < _SAME_NORM else NORM_FACTOR
        )
        return math.log(factor) + max(
            N_ERRORS * self.log_norm_spread / math.sqrt(n_rows),
            self.log_norm_deviation / n_rows,
        )


@contextlib.contextmanager
def width_hint(hint, active=True):
    """Append ``hint`` to scikit-learn's error on a wrong number of features."""
    try:
        yield
    except ValueError as error:
        if not active or "features, but" not in str(error):
            raise
        raise ValueError(f"{error} {hint}") from error
