"""LatentTranslator on hostile inputs: a correct map or a clear error, each case.

The table is shown in the user guide (:ref:`hostile_inputs`); ``tests/hostile.py``
describes the format.
"""

import warnings

import numpy as np
import pytest
from hostile import case, check_every_case_is_tested

from skrelrep import LatentTranslator

CASES = [
    (
        "magnitudes",
        "both spaces scaled by 1e-300 to 1e300 (every method and scaling)",
        "the same map in relative units: each space is divided by its largest entry "
        "before any statistic or product, so no spread overflows to infinity (which "
        "would make the target's mean every translation)",
    ),
    (
        "labels-as-target",
        "a 1-D y, such as a vector of class labels, as the target space",
        "ValueError: y must be 2-D embeddings, with y.reshape(-1, 1) for a target "
        "space of one feature",
    ),
    (
        "row-mismatch",
        "target embeddings with another number of rows than the source",
        "ValueError with both counts",
    ),
    (
        "too-few-anchors",
        "fewer anchors than source features for a least-squares map",
        "a UserWarning at the caller's line; the minimum-norm solution, which fits the "
        "anchors",
    ),
    (
        "constant-target-feature",
        'a target feature constant over the anchors (scaling="per_feature"), or a '
        "whole target space constant (any scaling)",
        "it stays constant after translation (never divided by its zero spread)",
    ),
    (
        "another-space",
        "source rows from another encoder of the same width, or not normalised as "
        "the anchors were",
        "ValueError naming the statistic (the mean cosine with the source anchors' "
        "mean direction, or the rows' typical norm), its value for the anchors and "
        "for the rows, and check_input_space=False; held-out source rows pass (see "
        "Input from another encoder, above)",
    ),
    (
        "non-finite",
        "NaN or infinite entries in either space",
        "ValueError naming the input",
    ),
    (
        "near-the-largest-value",
        "finite rows near the dtype's largest value, of both signs (their sum "
        "overflows): float32 up to 3e38, float64 up to 1.7e308, through fit, "
        "transform and inverse_transform",
        "the translation of the unscaled rows, scaled, without a RuntimeWarning "
        "(where a partial sum of the map would overflow, it is applied in units of "
        "powers of two); a translated row beyond the dtype's range is a ValueError "
        "saying what to do, never infinity",
    ),
]


def test_every_case_is_tested():
    check_every_case_is_tested(globals(), CASES)


def _space(n_samples=120, n_features=8, seed=0):
    rng = np.random.RandomState(seed)
    return rng.normal(size=(n_samples, n_features)) * rng.uniform(
        0.5, 3.0, n_features
    ) + rng.normal(size=n_features)


@case("magnitudes")
@pytest.mark.parametrize("method", ["orthogonal", "linear", "affine"])
@pytest.mark.parametrize("scaling", ["isotropic", "per_feature", None])
@pytest.mark.parametrize("magnitude", [1e-300, 1e-150, 1e150, 1e300])
def test_magnitudes(method, scaling, magnitude):
    X = _space()
    Y = _space(n_features=6, seed=1)
    base = LatentTranslator(method, scaling=scaling).fit(X[:60], Y[:60])
    scaled = LatentTranslator(method, scaling=scaling).fit(
        X[:60] * magnitude, Y[:60] * magnitude
    )
    np.testing.assert_allclose(
        scaled.transform(X[60:] * magnitude) / magnitude,
        base.transform(X[60:]),
        rtol=1e-9,
        atol=1e-9,
    )
    np.testing.assert_allclose(
        scaled.inverse_transform(Y[60:] * magnitude) / magnitude,
        base.inverse_transform(Y[60:]),
        rtol=1e-9,
        atol=1e-9,
    )


@case("labels-as-target")
def test_labels_as_target():
    X = _space()
    for y in (X[:, 0] > 0).astype(int), X @ np.arange(8.0):
        with pytest.raises(ValueError, match=r"2-D array .* y.reshape\(-1, 1\)"):
            LatentTranslator().fit(X, y)


@case("row-mismatch")
def test_row_mismatch():
    X = _space()
    with pytest.raises(
        ValueError, match=r"inconsistent numbers of samples: \[120, 119\]"
    ):
        LatentTranslator().fit(X, X[:-1])


@case("too-few-anchors")
def test_too_few_anchors():
    X, Y = _space(n_samples=5), _space(n_samples=5, seed=1)
    with pytest.warns(UserWarning, match="5 anchors cannot determine") as record:
        translator = LatentTranslator("linear").fit(X, Y)
    assert record[0].filename == __file__
    np.testing.assert_allclose(translator.transform(X), Y, atol=1e-8)


@case("constant-target-feature")
def test_constant_target_feature():
    X, Y = _space(), _space(n_features=3, seed=1)
    Y[:, 1] = 7.0
    for method in ("orthogonal", "linear", "affine"):
        translator = LatentTranslator(method, scaling="per_feature")
        translator.fit(X[:60], Y[:60])
        np.testing.assert_allclose(translator.transform(X[60:])[:, 1], 7.0)
        constant = LatentTranslator(method).fit(X[:60], np.full((60, 3), 7.0))
        np.testing.assert_allclose(constant.transform(X[60:]), 7.0)


@case("non-finite")
def test_non_finite():
    X, Y = _space(), _space(seed=1)
    for value in (np.nan, np.inf):
        bad = X.copy()
        bad[0, 0] = value
        with pytest.raises(ValueError, match=r"(NaN|infinity)"):
            LatentTranslator().fit(bad, Y)
        with pytest.raises(ValueError, match=r"(NaN|infinity)"):
            LatentTranslator().fit(Y, bad)


@case("another-space")
def test_another_space():
    X = _space(n_samples=200) + 5.0  # codes crowding around a direction of their own
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    translator = LatentTranslator().fit(X[:100], _space(n_samples=100, seed=1))
    translator.transform(X[100:101])
    translator.transform(X[100:])
    with pytest.raises(ValueError, match=r"mean cosine .* mean direction"):
        translator.transform(-X[100:])
    with pytest.raises(ValueError, match=r"typical norm .* is 4, against 1 "):
        translator.transform(4.0 * X[100:])


@case("near-the-largest-value")
@pytest.mark.parametrize(("dtype", "top"), [(np.float32, 3e38), (np.float64, 1.7e308)])
def test_near_the_largest_value(dtype, top):
    X, Y = _space(), _space(n_features=6, seed=1)
    X -= X.mean(axis=0)  # both signs
    factor = top / np.abs(X).max()
    big = (X * factor).astype(dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        assert not np.isfinite(big.sum())
    expected = LatentTranslator().fit(X[:60], Y[:60])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        translator = LatentTranslator().fit(big[:60], Y[:60].astype(dtype))
        translated = translator.transform(big[60:])
        # Back into the source space: rows near the largest value again.
        back = translator.inverse_transform(expected.transform(X[60:]).astype(dtype))
    tolerance = 1e-4 if dtype == np.float32 else 1e-9
    scale = np.abs(Y).max()
    np.testing.assert_allclose(
        translated, expected.transform(X[60:]), rtol=tolerance, atol=tolerance * scale
    )
    np.testing.assert_allclose(
        back / factor,
        expected.inverse_transform(expected.transform(X[60:])),
        rtol=tolerance,
        atol=tolerance * np.abs(X).max(),
    )
    # The same map applied to a row twice as large: beyond the range, refused.
    with pytest.raises(ValueError, match="leave the range of"):
        translator.inverse_transform(
            2 * expected.transform(X[60:]).astype(dtype) - translator.target_mean_
        )
