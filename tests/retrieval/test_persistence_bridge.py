"""load_bridge: a saved bridge loads back; a file that would run code is refused."""

import os
import sys

import numpy as np
import pytest

skops_io = pytest.importorskip("skops.io")

from skrelrep.retrieval import QueryBridge, load_bridge  # noqa: E402

_FLAG = "skrelrep_load_bridge_marker"


class _Marker:
    """Building this from a file runs code: it sets a flag in ``sys.modules``."""

    def __getstate__(self):
        return {}

    def __setstate__(self, state):
        sys.modules[_FLAG] = 1


@pytest.fixture
def bridge(spaces):
    pair = spaces[0]()
    return QueryBridge(max_epochs=0, random_state=0).fit(
        pair["new"][:80], pair["old"][:80], index=pair["old"]
    ), pair


def test_round_trip(bridge, tmp_path):
    fitted, pair = bridge
    path = tmp_path / "bridge.skops"
    skops_io.dump(fitted, path)
    loaded = load_bridge(path)
    assert type(loaded) is QueryBridge
    queries = pair["queries"][80:120]
    np.testing.assert_array_equal(loaded.transform(queries), fitted.transform(queries))
    np.testing.assert_array_equal(
        loaded.kneighbors(queries, return_distance=False),
        fitted.kneighbors(queries, return_distance=False),
    )
    np.testing.assert_array_equal(loaded.penalty_, fitted.penalty_)
    assert loaded.forecast_ == fitted.forecast_


def test_a_file_that_would_run_code_is_refused(bridge, tmp_path):
    fitted, _ = bridge
    path = tmp_path / "bridge.skops"
    skops_io.dump({"bridge": fitted, "payload": _Marker()}, path)
    asked = skops_io.get_untrusted_types(file=path)
    marker = f"{__name__}._Marker"
    assert marker in asked
    with pytest.raises(ValueError, match=r"refused.*_Marker"):
        load_bridge(path)
    assert _FLAG not in sys.modules
    # The file is hostile indeed: trusting everything it asks runs its code.
    try:
        skops_io.load(path, trusted=asked)
        assert _FLAG in sys.modules
    finally:
        sys.modules.pop(_FLAG, None)


def test_a_function_of_a_trusted_package_is_not_trusted(bridge, tmp_path):
    # Only classes of the trusted packages: a function (here NumPy's) is refused.
    fitted, _ = bridge
    path = tmp_path / "bridge.skops"
    skops_io.dump({"bridge": fitted, "run": np.load}, path)
    with pytest.raises(ValueError, match=r"numpy\..*load"):
        load_bridge(path)


def test_a_file_of_another_object_is_refused(tmp_path):
    path = tmp_path / "other.skops"
    skops_io.dump({"a": np.arange(3)}, path)
    with pytest.raises(ValueError, match="not a QueryBridge"):
        load_bridge(path)


def test_a_foreign_class_is_refused(bridge, tmp_path):
    fitted, _ = bridge
    path = tmp_path / "bridge.skops"
    skops_io.dump({"bridge": fitted, "run": os.system}, path)
    with pytest.raises(ValueError, match="system"):
        load_bridge(path)


def test_a_class_skops_marks_unsafe_is_refused(bridge, tmp_path):
    # scikit-learn's tree storage indexes its arrays without bounds checks: skops
    # lists it as unsafe to trust, and so does load_bridge, though it is sklearn's.
    from sklearn.tree import DecisionTreeClassifier

    fitted, pair = bridge
    tree = DecisionTreeClassifier(random_state=0).fit(pair["old"], np.arange(400) % 2)
    path = tmp_path / "bridge.skops"
    skops_io.dump({"bridge": fitted, "tree": tree}, path)
    with pytest.raises(ValueError, match=r"sklearn\.tree\._tree\.Tree"):
        load_bridge(path)
