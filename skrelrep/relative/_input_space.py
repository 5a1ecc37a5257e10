"""A fingerprint of the anchors' space, to refuse rows that cannot come from it.

Two encoders of the same width (MiniLM and multilingual-e5 are both 384-d) pass every
shape check, and the relative projection or the translation of one's codes on the
other's anchors is silently meaningless. :class:`InputSpace` keeps, at fit, a few
statistics of the anchors that every row of their space shares, and
:meth:`InputSpace.check` compares a batch with them in one pass over its rows:

- **direction** (both estimators): the cosine of a row with the anchors' mean
  direction. Embeddings crowd around a direction of their own (multilingual-e5: mean
  pairwise cosine 0.80; ReLU codes: 0.7), which another encoder's rows are all but
  orthogonal to. Checked when every anchor points that way with a margin.
- **principal share** (both estimators): the share of a row's squared norm that lies
  in the ``rank`` principal directions of the (unit, uncentred) anchors. Rows of the
  space keep much of their length there; rows of another encoder, whose structure
  points elsewhere, keep about what a random direction keeps, ``rank / n_features``.
- **norm** (where the output depends on the rows' scale: ``LatentTranslator``, whose
  map is affine in the raw coordinates, and ``RelativeTransformer`` with a distance,
  or with centring on anchors that crowd): the geometric mean of the rows' norms.

The first two read angles only: rescaling rows changes nothing.

**Rows of a batch are not independent** (one class, one topic, fifty copies of one
row), so no tolerance shrinks with the number of rows. Each statistic is a mean over
the batch of a per-row value, and a batch is refused only when that mean falls
beyond the most extreme value that a single row of the space may have. Every batch
of rows of the space (one row, copies of one row, one class, the training rows)
then passes whenever each of its rows would pass alone; foreign batches are refused
once their mean settles beyond that bound, which takes more rows the closer their
spread comes to it.

The bounds are extrapolated from honest values of the anchors: each anchor's cosine
with the mean direction of the others, and its share in the principal directions of
the others (five folds). A bound lies as far below the lowest value as the lowest
lies below the median (in log-odds for the share), and never above any anchor's own
value. ``rank`` is chosen among 1, 2, 4, ..., 32 to put the bound furthest above
what a random direction keeps; where no rank does (isotropic or centred data), the
share is not checked. With fewer than ``MIN_ANCHORS`` anchors, nothing is.
"""

import contextlib
import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..utils._array_api import is_numpy_namespace, to_namespace, to_numpy
from ..utils._norms import power_of_two_rows, row_norms

__all__ = ["InputSpace", "scale_dependence", "width_hint"]

# Fewer anchors give too rough an estimate of the lowest values.
MIN_ANCHORS = 20
# The principal share reads at most this many anchors (evenly spaced), in folds.
MAX_ANCHORS = 200
N_FOLDS = 5
# The ranks tried: the cost of a check is a product with ``rank + 1`` columns.
RANKS = (1, 2, 4, 8, 16, 32)
# A bound lies this many times the distance between the anchors' median and lowest
# value below the lowest (held-out rows of the measured encoders needed 0.9 at most).
BEYOND = 1.0
# Shares are clipped to [CLIP, 1 - CLIP] before taking log-odds.
CLIP = 1e-3
# Rounding of float32 input: a mean this far below a bound is no breach.
ROUNDING = 1e-4
# LatentTranslator: the factor on the typical row norm allowed beyond the anchors'
# range of norms; and the one allowed when every anchor has the same norm
# (normalised codes, up to rounding), for both estimators.
AFFINE_NORM_FACTOR = 10.0
UNIT_NORM_FACTOR = 1.01
# Centred cosine: a rescaling by s moves a centred row by |1 - 1/s| times the
# anchors' mean; it is allowed while that stays within this fraction of the anchors'
# root mean squared distance to their mean ...
CENTRED_HARM = 0.25
# ... and checked only when the anchors crowd (mean pairwise cosine): otherwise the
# origin lies within their cloud, and shrunk rows look like rows near their mean.
CENTRED_CROWDING = 0.1
# How the estimators' guard is turned off: the end of every message by default.
SWITCH_OFF = "If these rows are right, pass check_input_space=False."
# Rows read from a larger batch.
MAX_ROWS = 4096
_SAME_NORM = 1e-3  # spread of log norms below which the anchors count as one norm


@dataclass(frozen=True)
class InputSpace:
    """Statistics of the anchors that rows of their space share (NumPy, float64).

    ``direction`` is the anchors' mean unit row, normalised (None unless every
    anchor points its way with a margin); ``basis`` holds their ``rank`` principal
    directions as orthonormal columns (None when no rank tells the space apart).
    ``*_floor`` is the lowest value a row of the space may have, ``*_typical`` the
    median honest value of the anchors. ``crowding`` is the anchors' mean pairwise
    cosine and ``offset`` the norm of their mean over their root mean squared
    distance to it. ``log_norm`` is the mean natural log of the anchors' row norms
    and ``log_norm_deviation`` the largest deviation of one anchor from it.
    ``norms`` names how a rescaled batch changes the output: ``None`` (it does
    not), ``"centred"`` or ``"affine"``.
    """

    direction: np.ndarray = None
    direction_floor: float = 0.0
    direction_typical: float = 0.0
    basis: np.ndarray = None
    share_floor: float = 0.0
    share_typical: float = 0.0
    crowding: float = 0.0
    offset: float = 0.0
    log_norm: float = None
    log_norm_deviation: float = 0.0
    norms: str = None

    @property
    def rank(self):
        return 0 if self.basis is None else self.basis.shape[1]

    @classmethod
    def from_anchors(cls, anchors, *, norms=None):
        """The fingerprint of raw (uncentred) anchor embeddings, any namespace.

        ``norms`` is as :func:`scale_dependence` returns it, or ``"affine"`` for a
        map in raw coordinates.
        """
        if sp.issparse(anchors):
            anchors = anchors.toarray()
        # The anchors are few: their statistics are computed on the host.
        anchors = np.asarray(to_numpy(anchors), dtype=np.float64)
        # Each row divided by a power of two first: a finite row's norm may exceed
        # the largest float, its logarithm cannot.
        scaled, exponents = power_of_two_rows(anchors, np)
        norms_ = row_norms(scaled, np)
        positive = norms_ > 0
        if positive.sum() < MIN_ANCHORS:
            return cls(norms=norms)
        log_norms = np.log(norms_[positive]) + exponents[positive] * math.log(2)
        unit = scaled[positive] / norms_[positive, None]
        n_unit = unit.shape[0]
        total = unit.sum(axis=0)
        # The mean pairwise cosine, the diagonal left out: unbiased for few anchors.
        crowding = (float(total @ total) - n_unit) / (n_unit * (n_unit - 1))
        return cls(
            crowding=crowding,
            offset=_offset(anchors),
            log_norm=float(log_norms.mean()),
            log_norm_deviation=float(np.abs(log_norms - log_norms.mean()).max()),
            norms=norms,
            **_direction_fields(unit, total),
            **_principal_fields(unit),
        )

    def check(
        self,
        X,
        xp,
        *,
        device,
        estimator,
        hint,
        anchors="anchors",
        norms=None,
        remedy=SWITCH_OFF,
    ):
        """Raise a ``ValueError`` when the rows of ``X`` cannot be from this space.

        ``X`` is a validated 2-D array of any namespace, or a CSR matrix: one pass
        over at most ``MAX_ROWS`` of its rows, evenly spaced (their norms and one
        product with ``direction`` and ``basis``), and a few scalars brought to the
        host. ``norms`` overrides the fingerprint's own (``True`` means
        ``"affine"``). The message ends with ``hint``, then ``remedy``: how to turn
        the check off (by default, the estimators' ``check_input_space=False``;
        empty where the caller has no such switch).
        """
        norms = "affine" if norms is True else (norms or self.norms)
        limits = self._norm_limits(norms)
        if self.direction is None and self.basis is None and limits is None:
            return
        if sp.issparse(X) or is_numpy_namespace(xp):
            xp = np
        if X.shape[0] > MAX_ROWS:
            # Evenly spaced rows (a view for arrays): the statistics have converged
            # long before, and the check stays a small fraction of the projection.
            X = X[:: -(-X.shape[0] // MAX_ROWS)]
        row_norm = row_norms(X, xp)
        log_scale = 0.0
        if not bool(xp.all(row_norm <= float(np.finfo(_dtype(X)).max) / 4)):
            # Norms near or beyond the largest float (finite rows can have them):
            # rows divided by powers of two (exact), their logarithms added back.
            X, exponents = power_of_two_rows(X, xp)
            row_norm = row_norms(X, xp)
            log_scale = exponents * math.log(2)
            log_scale = to_namespace(log_scale.astype(_dtype(X)), xp, device)
        positive = row_norm > 0
        n_rows = int(xp.sum(xp.astype(positive, xp.int64)))
        if n_rows == 0:  # zero rows project to zero in any space
            return
        safe = xp.where(positive, row_norm, xp.ones_like(row_norm))
        advice = " ".join(text for text in (hint, remedy) if text)
        context = (type(estimator).__name__, n_rows, anchors, advice)
        columns = [v[:, None] for v in (self.direction,) if v is not None]
        columns += [self.basis] if self.basis is not None else []
        if columns:
            matrix = np.concatenate(columns, axis=1)
            matrix = xp.astype(to_namespace(matrix, xp, device), X.dtype)
            # Divided by the norm first: no magnitude overflows when squared.
            cosines = (X @ matrix) / safe[:, None]
            zero = xp.zeros_like(safe)
            if self.direction is not None:
                mean = float(xp.sum(xp.where(positive, cosines[:, 0], zero))) / n_rows
                if mean < self.direction_floor - ROUNDING:
                    raise ValueError(self._direction_message(mean, *context))
            if self.basis is not None:
                part = cosines[:, -self.rank :]
                shares = xp.where(positive, xp.sum(part * part, axis=1), zero)
                share = float(xp.sum(shares)) / n_rows
                if share < self.share_floor - ROUNDING:
                    raise ValueError(self._share_message(share, X.shape[1], *context))
        if limits is not None:
            logs = xp.where(positive, xp.log(safe) + log_scale, xp.zeros_like(safe))
            log_ratio = float(xp.sum(logs)) / n_rows - self.log_norm
            if not -limits[0] <= log_ratio <= limits[1]:
                raise ValueError(self._norm_message(log_ratio, limits, norms, *context))

    def _direction_message(self, mean, name, n_rows, anchors, advice):
        return (
            f"X does not look like rows of the space this {name} was fitted on: the "
            f"mean cosine of its {n_rows} nonzero rows with the {anchors}' mean "
            f"direction is {mean:.2f}, against {self.direction_typical:.2f} for rows "
            f"of that space (refused below {self.direction_floor:.2f}, less than any "
            f"row of that space has). {_ANOTHER_ENCODER} {advice}"
        )

    def _share_message(self, share, n_features, name, n_rows, anchors, advice):
        return (
            f"X does not look like rows of the space this {name} was fitted on: its "
            f"{n_rows} nonzero rows keep on average {share:.2f} of their squared "
            f"norm in the {self.rank} principal directions of the {anchors}, against "
            f"{self.share_typical:.2f} for rows of that space (refused below "
            f"{self.share_floor:.2f}, less than any row of that space keeps; a "
            f"random direction keeps {self.rank / n_features:.2f}). "
            f"{_ANOTHER_ENCODER} {advice}"
        )

    def _norm_message(self, log_ratio, limits, norms, name, n_rows, anchors, advice):
        typical = self.log_norm
        return (
            f"X does not look like rows of the space this {name} was fitted on: the "
            f"typical norm (geometric mean) of its {n_rows} nonzero rows is "
            f"{_exp_text(typical + log_ratio)}, against {_exp_text(typical)} for the "
            f"{anchors} (refused below {_exp_text(typical - limits[0])} and "
            f"above {_exp_text(typical + limits[1])}). {_SCALE_MATTERS[norms]} "
            "Unnormalised embeddings given to anchors that were normalised (or the "
            f"reverse), or input from another encoder? Preprocess X as the {anchors} "
            f"were. {advice}"
        )

    def _norm_limits(self, norms):
        """``(below, above)``: the largest |log| factors between a batch's typical
        norm and the anchors', or None where the norm is not checked.

        The anchors' own range (every row of the space lies in it), widened as far as
        a rescaling leaves the output meaningful; the number of rows plays no part,
        so any batch of rows of the space passes.
        """
        if norms is None or self.log_norm is None:
            return None
        if self.log_norm_deviation < _SAME_NORM:
            return (math.log(UNIT_NORM_FACTOR),) * 2
        if norms == "affine":
            return (self.log_norm_deviation + math.log(AFFINE_NORM_FACTOR),) * 2
        if self.crowding < CENTRED_CROWDING:
            return None
        # The anchors' range, as far again beyond it, then the harmless rescaling.
        reach = CENTRED_HARM / self.offset
        above = math.inf if reach >= 1 else -math.log1p(-reach)
        return (
            2 * self.log_norm_deviation + math.log1p(reach),
            2 * self.log_norm_deviation + above,
        )


_ANOTHER_ENCODER = (
    "Input from another encoder? Rows of another model, even one of the same "
    "width, give meaningless results."
)

# Why a rescaled batch is wrong, by the way the output depends on the scale.
_SCALE_MATTERS = {
    "affine": "The output depends on the rows' scale.",
    "centred": "Rows are compared with the anchors after subtracting the anchors' "
    "mean, so a rescaled row is also a translated one: its relative representation "
    "changes.",
}


def _exp_text(log_value):
    """``exp(log_value)`` written as ``format(value, ".3g")`` writes it, also where
    the value is beyond the range of a float (norms of rows near the largest
    float64)."""
    with contextlib.suppress(OverflowError):
        return format(math.exp(log_value), ".3g")
    exponent = math.floor(log_value / math.log(10))
    mantissa = float(format(math.exp(log_value - exponent * math.log(10)), ".3g"))
    if mantissa >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{mantissa:.3g}e+{exponent}"


def _dtype(X):
    """The NumPy dtype of ``X``, of any namespace (``torch.float32``: float32)."""
    return np.dtype(str(X.dtype).rsplit(".", 1)[-1])


def _offset(anchors):
    """The norm of the anchors' mean over their root mean squared distance to it
    (computed on the anchors divided by their largest entry: no overflow)."""
    largest = np.abs(anchors).max()
    scaled = anchors / largest
    mean = scaled.mean(axis=0)
    spread = math.sqrt(float(np.mean(np.sum((scaled - mean) ** 2, axis=1))))
    return float(np.linalg.norm(mean)) / spread if spread > 0 else math.inf


def _direction_fields(unit, total):
    """``direction`` and its bounds, when every anchor points its way."""
    length = float(np.linalg.norm(total))
    if length == 0:
        return {}
    direction = total / length
    # Each anchor's cosine with the mean direction of the others.
    others = total - unit
    lengths = np.linalg.norm(others, axis=1)
    honest = np.einsum("ij,ij->i", unit, others) / np.where(lengths > 0, lengths, 1)
    lowest, median = float(honest.min()), float(np.median(honest))
    floor = min(_beyond(lowest, median), float((unit @ direction).min()))
    if floor <= 0:
        return {}
    return {
        "direction": direction,
        "direction_floor": floor,
        "direction_typical": median,
    }


def _principal_fields(unit):
    """``basis`` and the bounds of the principal share of unit anchor rows."""
    n_anchors, n_features = unit.shape
    # Evenly spaced anchors for the honest scores: the cost stays bounded.
    sample = unit[
        np.linspace(0, n_anchors - 1, min(n_anchors, MAX_ANCHORS)).astype(int)
    ]
    gram = sample @ sample.T
    n_sample = sample.shape[0]
    folds = np.arange(n_sample) % N_FOLDS
    n_train = n_sample - np.bincount(folds).max()
    ranks = [r for r in RANKS if r < min(n_train, n_features)]
    if not ranks:
        return {}
    honest = np.full((n_sample, ranks[-1]), np.nan)
    for fold in range(N_FOLDS):
        held, train = folds == fold, folds != fold
        values, vectors = _top_eigen(gram[np.ix_(train, train)], ranks[-1])
        coordinates = gram[np.ix_(held, train)] @ vectors / np.sqrt(values)
        honest[held, : values.size] = np.cumsum(coordinates**2, axis=1)
    values, vectors = _top_eigen(gram, ranks[-1])
    best = None
    for rank in ranks:
        scores = honest[:, rank - 1]
        if rank > values.size or np.isnan(scores).any():
            break
        odds = _log_odds(scores)
        lowest, median = odds.min(), np.median(odds)
        floor = _expit(_beyond(lowest, median))
        margin = floor - rank / n_features
        if margin > 0 and (best is None or margin > best[0]):
            best = (margin, rank, floor, _expit(median))
    if best is None:
        return {}
    _, rank, floor, typical = best
    basis = sample.T @ vectors[:, :rank] / np.sqrt(values[:rank])
    # Every anchor passes alone: the bound never exceeds any anchor's own share.
    own = np.sum((unit @ basis) ** 2, axis=1)
    return {
        "basis": basis,
        "share_floor": min(floor, float(own.min())),
        "share_typical": typical,
    }


def _top_eigen(gram, count):
    """The ``count`` largest eigenvalues (descending) and eigenvectors of ``gram``,
    the numerically null ones left out."""
    values, vectors = np.linalg.eigh(gram)
    values, vectors = values[::-1][:count], vectors[:, ::-1][:, :count]
    kept = values > values[0] * 1e-10
    return values[kept], vectors[:, kept]


def _beyond(lowest, median):
    """The bound on a row's value: as far below the lowest anchor as it lies below
    their median (``BEYOND`` times that)."""
    return lowest - BEYOND * (median - lowest)


def _log_odds(share):
    share = np.clip(share, CLIP, 1 - CLIP)
    return np.log(share / (1 - share))


def _expit(value):
    return float(1 / (1 + math.exp(-value)))


@contextlib.contextmanager
def width_hint(hint, active=True):
    """Append ``hint`` to scikit-learn's error on a wrong number of features."""
    try:
        yield
    except ValueError as error:
        if not active or "features, but" not in str(error):
            raise
        raise ValueError(f"{error} {hint}") from error


def scale_dependence(center, similarity):
    """How a rescaling of the rows changes ``RelativeTransformer``'s output.

    ``None`` for a cosine from the origin (rescaled rows give the same output),
    ``"centred"`` for a cosine after centring, ``"affine"`` for a distance.
    """
    if not similarity.measures_angles:
        return "affine"
    return "centred" if center else None
