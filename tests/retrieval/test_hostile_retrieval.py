"""QueryBridge on hostile inputs: a correct bridge or a clear error, each case.

The table is shown in the user guide (:ref:`hostile_inputs`); ``tests/hostile.py``
describes the format.
"""

import numpy as np
import pytest
from hostile import case, check_every_case_is_tested
from sklearn.exceptions import NotFittedError

from skrelrep.retrieval import QueryBridge

CASES = [
    (
        "row-mismatch",
        "new-model anchors (X) and old-model anchors (y) with different row counts",
        "ValueError with both counts: row i of both must be the same item",
    ),
    (
        "non-finite",
        "NaN or infinity in the anchors, the index or the unpaired queries",
        "ValueError naming the input",
    ),
    (
        "index-width",
        "an index whose width differs from the old-model anchors'",
        "ValueError with both widths",
    ),
    (
        "queries-width",
        "unpaired queries whose width differs from the new-model anchors'",
        "ValueError with both widths",
    ),
    (
        "queries-another-space",
        "unpaired queries (or queries given to transform and kneighbors) embedded "
        "by another model of the same width",
        "ValueError from the input-space guard, naming the statistic and "
        "check_input_space=False; the same model's queries pass",
    ),
    (
        "index-another-space",
        "an index embedded by another model than the old-model anchors",
        "ValueError from the input-space guard",
    ),
    (
        "too-many-neighbours",
        "n_neighbors larger than the index, zero, or not an integer",
        "ValueError naming the index's row count",
    ),
    (
        "labels-as-y",
        "a 1-D y, such as class labels, as the old-model anchors",
        "ValueError: y must be 2-D embeddings",
    ),
    (
        "too-few-anchors",
        "a single anchor pair",
        "ValueError: at least 2 are needed",
    ),
    (
        "relative-without-queries",
        'start="relative" without unpaired queries',
        "ValueError saying what it needs",
    ),
    (
        "nothing-half-fitted",
        "any of the errors above when refitting a fitted bridge, or fitting a new one",
        "the fitted bridge is left exactly as it was; a new one stays unfitted",
    ),
]


def test_every_case_is_tested():
    check_every_case_is_tested(globals(), CASES)


ROTATION = np.linalg.qr(np.random.RandomState(1).normal(size=(12, 12)))[0]


def _space(n_rows, seed, new=False, other=False):
    """Rows crowding around a direction of their own, as embeddings do: the old
    model's, the new model's (rotated, noisy), or another model's (away from it)."""
    rng = np.random.RandomState(seed)
    offset = np.random.RandomState(100).normal(size=12)
    rows = rng.normal(size=(n_rows, 12)) + 2 * offset * (-1 if other else 1)
    if new:
        rows = rows @ ROTATION + 0.05 * rng.normal(size=rows.shape)
    return rows


@pytest.fixture
def data():
    old = _space(200, 0)
    new = old @ ROTATION + 0.05 * np.random.RandomState(2).normal(size=old.shape)
    return new, old


def _fit(new, old, **kwargs):
    return QueryBridge(random_state=0, max_epochs=1, max_rounds=2).fit(
        new[:40], old[:40], **kwargs
    )


@case("row-mismatch")
def test_row_mismatch(data):
    new, old = data
    with pytest.raises(ValueError, match=r"40 rows in X .* 39 in y"):
        QueryBridge().fit(new[:40], old[:39], index=old)


@case("non-finite")
@pytest.mark.parametrize("where", ["X", "y", "index", "unpaired_queries"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite(data, where, value):
    new, old = data
    inputs = {
        "X": new[:40].copy(),
        "y": old[:40].copy(),
        "index": old.copy(),
        "unpaired_queries": new[100:].copy(),
    }
    inputs[where][3, 2] = value
    name = {"X": "X", "y": "y", "index": "index"}.get(where, "unpaired_queries")
    with pytest.raises(ValueError, match=rf"{name}.*(NaN|infinity)"):
        QueryBridge().fit(
            inputs["X"],
            inputs["y"],
            index=inputs["index"],
            unpaired_queries=inputs["unpaired_queries"],
        )


@case("index-width")
def test_index_width(data):
    new, old = data
    with pytest.raises(ValueError, match=r"index has 11 features .* y 12"):
        QueryBridge().fit(new[:40], old[:40], index=old[:, :11])


@case("queries-width")
def test_queries_width(data):
    new, old = data
    with pytest.raises(ValueError, match=r"unpaired_queries have 10 features .* 12"):
        QueryBridge().fit(
            new[:40], old[:40], index=old, unpaired_queries=new[100:, :10]
        )


@case("queries-another-space")
def test_queries_another_space(data):
    new, old = data
    other = _space(100, 5, new=True, other=True)
    with pytest.raises(ValueError, match="check_input_space=False"):
        QueryBridge().fit(new[:40], old[:40], index=old, unpaired_queries=other)
    QueryBridge(check_input_space=False, max_epochs=0, max_rounds=1).fit(
        new[:40], old[:40], index=old, unpaired_queries=other
    )
    bridge = _fit(new, old, index=old, unpaired_queries=new[100:])
    with pytest.raises(ValueError, match="mean direction"):
        bridge.transform(other)
    with pytest.raises(ValueError, match="mean direction"):
        bridge.kneighbors(other)
    bridge.kneighbors(new[60:70])  # held-out rows of the new model pass


@case("index-another-space")
def test_index_another_space(data):
    new, old = data
    with pytest.raises(ValueError, match="old model's anchors"):
        QueryBridge().fit(new[:40], old[:40], index=_space(150, 5, other=True))


@case("too-many-neighbours")
@pytest.mark.parametrize("n_neighbors", [201, 0, 2.5, True])
def test_too_many_neighbours(data, n_neighbors):
    new, old = data
    bridge = _fit(new, old, index=old)
    with pytest.raises(ValueError, match="from 1 to the 200 rows of the index"):
        bridge.kneighbors(new[60:70], n_neighbors=n_neighbors)
    assert bridge.kneighbors(new[60:70], n_neighbors=200)[1].shape == (10, 200)


@case("labels-as-y")
def test_labels_as_y(data):
    new, _ = data
    with pytest.raises(ValueError, match="2-D"):
        QueryBridge().fit(new[:40], np.arange(40))


@case("too-few-anchors")
def test_too_few_anchors(data):
    new, old = data
    with pytest.raises(ValueError, match="minimum of 2 is required"):
        QueryBridge().fit(new[:1], old[:1], index=old)


@case("relative-without-queries")
def test_relative_without_queries(data):
    new, old = data
    with pytest.raises(ValueError, match="unpaired_queries="):
        QueryBridge(start="relative").fit(new[:40], old[:40], index=old)


@case("nothing-half-fitted")
def test_nothing_half_fitted(data):
    new, old = data
    bridge = _fit(new, old, index=old, unpaired_queries=new[100:])
    before = {name: value for name, value in vars(bridge).items()}
    bad = new[100:].copy()
    bad[0, 0] = np.nan
    hostile = [
        dict(X=new[:40], y=old[:39]),
        dict(X=new[:40], y=old[:40], index=old[:, :11]),
        dict(X=new[:40], y=old[:40], unpaired_queries=bad),
        dict(X=new[:40, :11], y=old[:40], unpaired_queries=new[100:]),
        dict(
            X=new[:40],
            y=old[:40],
            unpaired_queries=_space(100, 5, new=True, other=True),
        ),
    ]
    for inputs in hostile:
        X, y = inputs.pop("X"), inputs.pop("y")
        with pytest.raises(ValueError):
            bridge.fit(X, y, **inputs)
        assert vars(bridge).keys() == before.keys()
        for name, value in before.items():
            assert vars(bridge)[name] is value
        fresh = QueryBridge()
        with pytest.raises(ValueError):
            fresh.fit(X, y, **inputs)
        with pytest.raises(NotFittedError):
            fresh.transform(new[:5])
        assert not [name for name in vars(fresh) if name.endswith("_")]
