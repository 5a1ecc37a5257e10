"""Anchor selection and GreedyAnchorSelector on hostile inputs.

The table is shown in the user guide (:ref:`hostile_inputs`); ``tests/hostile.py``
describes the format.
"""

import numpy as np
import pytest
from hostile import case, check_every_case_is_tested

from skrelrep import GreedyAnchorSelector, RelativeTransformer

CASES = [
    (
        "magnitudes",
        "rows scaled by about 1e-30 to 1e30 (float32) or 1e-300 to 1e300 (float64), "
        "for FPS, k-means and the greedy selector",
        "the same anchors as for the unscaled rows",
    ),
    (
        "few-directions",
        "more anchors than distinct rows (duplicates, zero rows) for FPS and k-means",
        "distinct row indices, finite outputs (identical anchors give identical "
        "columns); FPS warns and draws the anchors beyond the distinct directions "
        "at random among the other rows",
    ),
    (
        "no-parallel-data",
        "GreedyAnchorSelector fitted without X_parallel",
        "ValueError saying how to pass it (fit(X, X_parallel=Z), or as fit "
        "metadata in a pipeline)",
    ),
    (
        "parallel-row-mismatch",
        "X_parallel with another number of rows than X",
        "ValueError with both counts",
    ),
    (
        "parallel-non-finite",
        "NaN in X_parallel",
        "ValueError naming X_parallel",
    ),
]


def test_every_case_is_tested():
    check_every_case_is_tested(globals(), CASES)


def _data(dtype=np.float64):
    rng = np.random.RandomState(0)
    return (rng.normal(size=(150, 6)) + 0.2).astype(dtype)


@case("magnitudes")
@pytest.mark.parametrize(
    ("dtype", "factors"),
    # Powers of two: the scaled rows are exact, so any change of anchors would come
    # from an overflow or underflow, not from rounding the input (near-ties).
    [(np.float32, [2.0**-100, 2.0**100]), (np.float64, [2.0**-1000, 2.0**1000])],
)
def test_magnitudes(dtype, factors):
    X = _data(dtype)
    selector = GreedyAnchorSelector(n_candidates=10, n_eval=60)
    X_parallel = X[:, ::-1] * dtype(2)
    for strategy in ("fps", "kmeans", selector):
        parallel = {"X_parallel": X_parallel} if strategy is selector else {}
        expected = RelativeTransformer(8, anchor_selection=strategy, random_state=0)
        expected = expected.fit(X, **parallel).anchor_indices_
        for factor in factors:
            scaled = {k: v * dtype(factor) for k, v in parallel.items()}
            relative = RelativeTransformer(
                8, anchor_selection=strategy, random_state=0
            ).fit(X * dtype(factor), **scaled)
            np.testing.assert_array_equal(relative.anchor_indices_, expected)


@case("few-directions")
def test_few_directions():
    X = np.vstack([np.ones((5, 3)), np.zeros((2, 3)), np.eye(3)])
    for strategy in ("fps", "kmeans"):
        relative = RelativeTransformer(8, anchor_selection=strategy, random_state=0)
        if strategy == "fps":  # 6 directions: ones, the 3 axes and 2 zero rows
            with pytest.warns(UserWarning, match="found 6 distinct directions"):
                R = relative.fit_transform(X)
        else:
            R = relative.fit_transform(X)
        assert len(set(relative.anchor_indices_.tolist())) == 8
        assert np.isfinite(R).all()


@case("no-parallel-data")
def test_no_parallel_data():
    X = _data()
    relative = RelativeTransformer(5, anchor_selection=GreedyAnchorSelector())
    with pytest.raises(ValueError, match=r"fit\(X, X_parallel=Z\)"):
        relative.fit(X)


@case("parallel-row-mismatch")
def test_parallel_row_mismatch():
    X = _data()
    with pytest.raises(ValueError, match="X has 150 rows, X_parallel 149"):
        GreedyAnchorSelector()(X, None, n_anchors=5, X_parallel=X[:-1])


@case("parallel-non-finite")
def test_parallel_non_finite():
    X = _data()
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="X_parallel contains NaN"):
        GreedyAnchorSelector()(X, None, n_anchors=5, X_parallel=bad)
