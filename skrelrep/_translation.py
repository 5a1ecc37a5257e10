"""Latent space translation: map one encoder's space onto another's with anchors.

:class:`LatentTranslator` estimates, from parallel anchors (the same items embedded by
two encoders), a closed-form map from the source space to the target space (Maiorca et
al., 2023): orthogonal (Procrustes), linear or affine least squares, after standard
scaling of each space on its anchors. :func:`stitch_by_translation` uses it to run a
decoder on another encoder's codes: the alternative to relative stitching.

This module needs nothing from :mod:`skrelrep.stitching`; :func:`stitch_by_translation`
lives there, beside :func:`~skrelrep.stitch`, and uses this one.
"""

import math

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, validate_data

from .relative._input_space import InputSpace, width_hint
from .utils._array_api import to_numpy_if_tensor
from .utils._compat import StrOptions, _fit_context
from .utils._finite import quiet_finite_check
from .utils._warnings import warn

__all__ = ["LatentTranslator"]


class LatentTranslator(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Translate embeddings from a source latent space into a target latent space.

    ``fit(X, y)`` takes parallel anchors: row ``i`` of ``X`` (source space) and row
    ``i`` of ``y`` (target space) are the same item seen by two encoders. Each space is
    standardised on its own anchors, the smaller one is zero-padded to the width of the
    larger, and a map between the standardised anchors is estimated in closed form
    (Maiorca et al., 2023). ``transform`` maps source embeddings into the target space:
    standardise, apply the map, de-standardise with the target anchors' statistics and
    keep the target's width. A decoder trained on the target encoder can then read the
    translated embeddings, with no training: stitching by translation.

    Parameters
    ----------
    method : {"orthogonal", "linear", "affine"}, default="orthogonal"
        The map between the standardised spaces: orthogonal Procrustes (an isometry),
        least squares, or least squares with a bias. See :ref:`translation_options`.

    scaling : {"isotropic", "per_feature"} or None, default="isotropic"
        How each space is standardised on its anchors before the map is estimated:
        centred and divided by one scalar, by each feature's spread, or left as it
        is. See :ref:`translation_options`.

    check_input_space : bool, default=True
        Refuse (``ValueError``) rows given to ``transform`` (``inverse_transform``)
        that cannot come from the space of the source (target) anchors: by
        direction, principal share or norm. See :ref:`input_space_guard`.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features_out_, n_features_in_)
        The linear part of the whole map in raw coordinates:
        ``transform(X) = X @ coef_.T + intercept_``.

    intercept_ : ndarray of shape (n_features_out_,)
        The constant part of the whole map in raw coordinates.

    rotation_ : ndarray of shape (n_padded, n_padded)
        The orthogonal matrix between the standardised, zero-padded spaces, applied as
        ``X_std @ rotation_`` (``n_padded = max(n_features_in_, n_features_out_)``).
        Only with ``method="orthogonal"``.

    source_mean_ : ndarray of shape (n_features_in_,)
        Mean of the source anchors (zeros with ``scaling=None``).

    source_scale_ : ndarray of shape (n_features_in_,)
        Standard deviation of the source anchors, per feature (all equal with
        ``scaling="isotropic"``; ones with ``scaling=None``).

    target_mean_ : ndarray of shape (n_features_out_,)
        Mean of the target anchors.

    target_scale_ : ndarray of shape (n_features_out_,)
        Standard deviation of the target anchors, per feature, restored by
        ``transform``.

    n_features_in_ : int
        Width of the source space, seen during :term:`fit`.

    n_features_out_ : int
        Width of the target space: the number of output features.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    stitch_by_translation : Run a decoder on another encoder's codes by translation.
    RelativeTransformer : The alternative: compare spaces through anchor similarities.
    scipy.linalg.orthogonal_procrustes : The orthogonal problem, without scaling.

    Notes
    -----
    ``inverse_transform`` maps target embeddings back into the source space with the
    Moore-Penrose pseudo-inverse of the map between the standardised spaces (for
    ``"orthogonal"`` its transpose). It inverts ``transform`` exactly when the map is
    invertible (same widths, full-rank ``"linear"``/``"affine"`` map, or
    ``"orthogonal"`` from a narrower into a wider space); otherwise it returns the
    least-squares, minimum-norm preimage in standardised source coordinates.

    The least-squares methods need more anchors than source features
    (``n_features_in_ + 1``; ``n_features_in_`` suffice for ``"linear"`` with
    ``scaling=None``). With fewer, the map is not determined by the anchors: ``fit``
    warns (:class:`UserWarning`) and keeps the minimum-norm least-squares solution,
    which fits the anchors exactly but is arbitrary off their span. Anchors that are
    numerous but collinear (for instance codes with dead, constant units) also get
    the minimum-norm solution, silently: a constant feature carries no information to
    map. The orthogonal map is likewise determined only on the span of the anchors,
    but it cannot overfit them (it keeps every norm and angle), so it does not warn.

    Fitting computes in float64; fitted arrays and ``transform``'s output take the
    dtype of the ``X`` given (float32 stays float32).

    References
    ----------
    .. [1] V. Maiorca, L. Moschella, A. Norelli, M. Fumero, F. Locatello and E. Rodolà,
       "Latent Space Translation via Semantic Alignment", NeurIPS 2023.
       https://arxiv.org/abs/2311.00664
    .. [2] P. H. Schönemann, "A generalized solution of the orthogonal Procrustes
       problem", Psychometrika 31, 1966.

    Examples
    --------
    Two spaces of the same items, related by a rotation, a rescaling and a shift:

    >>> import numpy as np
    >>> from scipy.stats import ortho_group
    >>> from skrelrep import LatentTranslator
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 8))
    >>> Q = ortho_group.rvs(8, random_state=0)
    >>> Y = 3.0 * X @ Q + 1.0
    >>> translator = LatentTranslator().fit(X[:50], Y[:50])
    >>> bool(np.allclose(translator.transform(X[50:]), Y[50:]))
    True
    >>> bool(np.allclose(translator.inverse_transform(Y[50:]), X[50:]))
    True

    Spaces of different widths: the 8-d space is embedded isometrically in 12-d.

    >>> Q12 = ortho_group.rvs(12, random_state=1)[:8]
    >>> translator = LatentTranslator().fit(X[:50], X[:50] @ Q12)
    >>> translator.n_features_out_
    12
    >>> bool(np.allclose(translator.transform(X[50:]), X[50:] @ Q12))
    True
    """

    _parameter_constraints: dict = {
        "method": [StrOptions({"orthogonal", "linear", "affine"})],
        "scaling": [StrOptions({"isotropic", "per_feature"}), None],
        "check_input_space": ["boolean"],
    }

    def __init__(
        self, method="orthogonal", *, scaling="isotropic", check_input_space=True
    ):
        self.method = method
        self.scaling = scaling
        self.check_input_space = check_input_space

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Estimate the map from parallel anchors.

        Parameters
        ----------
        X : array-like of shape (n_anchors, n_features_in)
            The anchors in the source space.

        y : array-like of shape (n_anchors, n_features_out)
            The same anchors, in the same order, in the target space. It must be 2-D:
            a 1-D ``y`` (class labels, say) raises a ``ValueError``; a target space of
            one feature is ``y.reshape(-1, 1)``.

        Returns
        -------
        self : object
            Fitted translator.
        """
        with quiet_finite_check():
            X, Y = validate_data(
                self,
                to_numpy_if_tensor(X),
                to_numpy_if_tensor(y),
                dtype=[np.float64, np.float32],
                multi_output=True,
                y_numeric=True,
                ensure_min_samples=2,
            )
        if np.ndim(Y) != 2:
            raise ValueError(
                "y must hold the target embeddings of the anchors, a 2-D array of "
                "shape (n_anchors, n_features_target), one row per row of X; got an "
                f"array of shape {np.shape(Y)}. A vector of class labels is not a "
                "latent space; for a target space of one feature, pass "
                "y.reshape(-1, 1)."
            )
        dtype = X.dtype
        self._source_space = InputSpace.from_anchors(X)
        self._target_space = InputSpace.from_anchors(Y)
        n_source, n_target = X.shape[1], Y.shape[1]
        n_padded = max(n_source, n_target)
        # Each space is divided by its largest entry first, so that no statistic or
        # product overflows or underflows (standardising removes the factor again;
        # without scaling, one common factor keeps the map as it is).
        source_factor, target_factor = _largest(X), _largest(Y)
        if self.scaling is None:
            source_factor = target_factor = max(source_factor, target_factor)
        X = X.astype(np.float64) / source_factor
        Y = np.asarray(Y, dtype=np.float64) / target_factor
        source_mean, source_scale = self._scaling_stats(X, n_padded)
        target_mean, target_scale = self._scaling_stats(Y, n_padded)
        # Divide by the scale where it is positive; multiply by the true one, so that
        # a constant target feature stays constant after translation.
        source_divisor, target_divisor = _divisor(source_scale), _divisor(target_scale)
        X_std = (X - source_mean) / source_divisor
        Y_std = (Y - target_mean) / target_divisor
        # Back to the units of the data, for the whole map.
        source_mean, target_mean = (
            source_mean * source_factor,
            target_mean * target_factor,
        )
        source_divisor = source_divisor * source_factor
        target_divisor = target_divisor * target_factor
        source_scale, target_scale = (
            source_scale * source_factor,
            target_scale * target_factor,
        )

        if self.method == "orthogonal":
            rotation = _procrustes(_pad(X_std, n_padded), _pad(Y_std, n_padded))
            weights = rotation[:n_source, :n_target]
            bias = np.zeros(n_target)
            # W has orthonormal rows or columns: its pseudo-inverse is its transpose.
            inverse_weights = weights.T
            self.rotation_ = rotation.astype(dtype, copy=False)
        else:
            weights, bias = self._least_squares(X_std, Y_std)
            inverse_weights = np.linalg.pinv(weights)
            if hasattr(self, "rotation_"):
                del self.rotation_

        # The whole map in raw coordinates: x -> ((x - m_s) / s_s) W + b) s_t + m_t.
        coef = weights / source_divisor[:, None] * target_scale
        self.coef_ = coef.T.astype(dtype, copy=False)
        self.intercept_ = (
            target_mean + bias * target_scale - source_mean @ coef
        ).astype(dtype, copy=False)
        inverse_coef = inverse_weights / target_divisor[:, None] * source_scale
        self._inverse_coef = inverse_coef.astype(dtype, copy=False)
        self._inverse_intercept = (
            source_mean
            - (target_mean / target_divisor + bias) @ inverse_weights * source_scale
        ).astype(dtype, copy=False)
        if self.scaling is None:  # the documented attributes: no scaling at all
            source_scale, target_scale = np.ones(n_source), np.ones(n_target)
        self.source_mean_ = source_mean.astype(dtype, copy=False)
        self.source_scale_ = source_scale.astype(dtype, copy=False)
        self.target_mean_ = target_mean.astype(dtype, copy=False)
        self.target_scale_ = target_scale.astype(dtype, copy=False)
        self.n_features_out_ = n_target
        return self

    def transform(self, X):
        """Map source embeddings into the target space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in_)
            Embeddings in the source space.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_out_)
            The embeddings translated into the target space, in the floating dtype of
            ``X``.
        """
        check_is_fitted(self)
        with width_hint(_HINT), quiet_finite_check():
            X = validate_data(
                self, to_numpy_if_tensor(X), reset=False, dtype=[np.float64, np.float32]
            )
        self._check_space(X, self._source_space, "source anchors")
        return _affine(X, self.coef_.T, self.intercept_, "target")

    def inverse_transform(self, X):
        """Map target embeddings back into the source space.

        Exact for an invertible map; otherwise the least-squares, minimum-norm preimage
        in standardised source coordinates (see Notes).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_out_)
            Embeddings in the target space.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features_in_)
            The embeddings in the source space, in the floating dtype of ``X``.
        """
        check_is_fitted(self)
        with quiet_finite_check():
            X = check_array(
                to_numpy_if_tensor(X), dtype=[np.float64, np.float32], input_name="X"
            )
        if X.shape[1] != self.n_features_out_:
            raise ValueError(
                f"X has {X.shape[1]} features, but inverse_transform expects "
                f"{self.n_features_out_} (the width of the target space). {_HINT}"
            )
        self._check_space(X, self._target_space, "target anchors")
        return _affine(X, self._inverse_coef, self._inverse_intercept, "source")

    def _check_space(self, X, space, anchors):
        """Refuse rows that cannot come from the space of ``anchors`` (the guard)."""
        if self.check_input_space:
            space.check(
                X,
                np,
                device=None,
                estimator=self,
                hint=_HINT,
                anchors=anchors,
                norms=True,
            )

    def _scaling_stats(self, A, n_padded):
        """Mean and per-feature scale of one space's anchors (see ``scaling``)."""
        n_features = A.shape[1]
        if self.scaling is None:
            return np.zeros(n_features), np.ones(n_features)
        mean = A.mean(axis=0)
        centred = A - mean
        if self.scaling == "per_feature":
            scale = centred.std(axis=0)
        else:
            # Zero-padded columns have no variance: the pooled variance over the common
            # width keeps both spaces' scalars comparable whatever their widths.
            pooled = np.sum(centred**2) / (A.shape[0] * n_padded)
            scale = np.full(n_features, np.sqrt(pooled))
        # Rounding leaves a constant feature a tiny spread: call it zero.
        tiny = 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(mean))
        return mean, np.where(scale <= tiny, 0.0, scale)

    def _least_squares(self, X_std, Y_std):
        """Least-squares weights (and bias, for "affine"); warns on too few anchors."""
        n_anchors, n_source = X_std.shape
        # Centring (or the bias) uses up one anchor's worth of equations.
        needed = n_source + int(self.method == "affine" or self.scaling is not None)
        if n_anchors < needed:
            warn(
                f"{n_anchors} anchors cannot determine a {self.method} map from "
                f"{n_source} source features (at least {needed} are needed): using the "
                "minimum-norm least-squares solution, which fits the anchors but is "
                "arbitrary off their span. Give more anchors, or use "
                'method="orthogonal".'
            )
        design = X_std
        if self.method == "affine":
            design = np.hstack([X_std, np.ones((n_anchors, 1))])
        solution = np.linalg.lstsq(design, Y_std, rcond=None)[0]
        if self.method == "affine":
            return solution[:-1], solution[-1]
        return solution, np.zeros(Y_std.shape[1])

    @property
    def _n_features_out(self):
        """Number of transformed output features (used by get_feature_names_out)."""
        return self.n_features_out_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # y is the second view of the anchors: required, and usually 2-D.
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        # y is always 2-D: a target space, never a vector of labels.
        tags.target_tags.single_output = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


_HINT = (
    "transform takes embeddings of the source space (X of fit), inverse_transform "
    "those of the target space (y of fit)."
)


def _largest(A):
    """The largest absolute entry of ``A`` as a float (1 for an all-zero array)."""
    largest = float(np.max(np.abs(A))) if A.size else 0.0
    return largest if largest > 0 else 1.0


def _affine(X, coef, intercept, space):
    """``X @ coef + intercept`` in the dtype of ``X``, with no intermediate overflow.

    Near the dtype's largest value a product or a partial sum can overflow although
    the result is in range. Then ``X``, ``coef`` and ``intercept`` are divided by
    powers of two (exact) and the result multiplied back; a result that is itself
    beyond the range raises a ``ValueError`` saying what to do.
    """
    coef = coef.astype(X.dtype, copy=False)
    intercept = intercept.astype(X.dtype, copy=False)
    overflowed = []
    with np.errstate(over="call", call=lambda *_: overflowed.append(True)):
        result = X @ coef + intercept
    if not overflowed and np.isfinite(result).all():
        return result
    # Exponents that bring the largest entries of X and coef below 2, and the
    # result's unit, which the product and the intercept share.
    x_exp, coef_exp, intercept_exp = (_exponent(A) for A in (X, coef, intercept))
    unit = max(x_exp + coef_exp, intercept_exp)
    with np.errstate(under="ignore"):  # terms far below the result's unit
        product = np.ldexp(X, -x_exp) @ np.ldexp(coef, -coef_exp)
        scaled = np.ldexp(product, x_exp + coef_exp - unit) + np.ldexp(intercept, -unit)
    with np.errstate(over="ignore"):
        result = np.ldexp(scaled, unit).astype(X.dtype, copy=False)
    if not np.isfinite(result).all():
        raise ValueError(
            f"Translated into the {space} space, these rows leave the range of "
            f"{X.dtype} (entries of X up to {float(np.abs(X).max()):.3g}). Divide X "
            "by a power of two (the output is divided by the same power), or convert "
            "float32 input to float64."
        )
    return result


def _exponent(A):
    """The ``e`` for which ``A / 2**e`` has its largest absolute entry in [1, 2)."""
    largest = float(np.max(np.abs(A))) if A.size else 0.0
    return math.frexp(largest)[1] - 1 if largest > 0 else 0


def _divisor(scale):
    """The scale, with zeros (constant features or spaces) replaced by 1."""
    return np.where(scale == 0, 1.0, scale)


def _pad(A, width):
    """``A`` with zero columns appended up to ``width``."""
    if A.shape[1] == width:
        return A
    return np.hstack([A, np.zeros((A.shape[0], width - A.shape[1]))])


def _procrustes(A, B):
    """The orthogonal ``R`` minimising ``||A R - B||_F``: ``U V^T`` of ``A^T B``."""
    U, _, Vt = np.linalg.svd(A.T @ B)
    return U @ Vt
