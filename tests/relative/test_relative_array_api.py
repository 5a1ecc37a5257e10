"""RelativeTransformer on Array API inputs: torch tensors and array-api-strict arrays."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose
from sklearn.metrics.pairwise import cosine_similarity

from skrelrep import RelativeTransformer

torch = pytest.importorskip("torch")
array_api_strict = pytest.importorskip("array_api_strict")


def _data(dtype):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 9)).astype(dtype)
    X[5] = 0  # a zero row must give zeros on every namespace
    return X


def _torch(X, dtype_name):
    return torch.asarray(X, dtype=getattr(torch, dtype_name))


def _strict(X, dtype_name):
    return array_api_strict.asarray(X, dtype=getattr(array_api_strict, dtype_name))


NAMESPACES = {"torch": _torch, "array_api_strict": _strict}


@pytest.mark.parametrize("namespace", list(NAMESPACES))
@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("strategy", ["random", "fps", "kmeans"])
@pytest.mark.parametrize("center", [False, True])
def test_same_result_and_namespace_as_numpy(namespace, dtype_name, strategy, center):
    X = _data(dtype_name)
    X_xp = NAMESPACES[namespace](X, dtype_name)
    params = dict(
        n_anchors=15, anchor_selection=strategy, center=center, random_state=0
    )
    with sklearn.config_context(array_api_dispatch=True):
        relative = RelativeTransformer(**params, batch_size=50).fit(X_xp)
        R_xp = relative.transform(X_xp)
    assert type(R_xp) is type(X_xp)
    assert R_xp.dtype == X_xp.dtype
    assert type(relative.anchors_) is type(X_xp)
    R = np.asarray(R_xp) if namespace == "torch" else np.from_dlpack(R_xp)
    indices = np.asarray(relative.anchor_indices_)
    expected_anchors = RelativeTransformer(**params).fit(X).anchor_indices_
    assert np.array_equal(indices, expected_anchors)
    anchors = X[indices].astype(np.float64)
    X64 = X.astype(np.float64)
    if center:
        X64, anchors = X64 - anchors.mean(0), anchors - anchors.mean(0)
    tol = 1e-5 if dtype_name == "float32" else 1e-12
    assert_allclose(R, cosine_similarity(X64, anchors), atol=tol)
    assert np.all(R[5] == 0) or center


def test_torch_without_dispatch_is_converted_to_numpy():
    X = _data("float32")
    relative = RelativeTransformer(10, random_state=0).fit(torch.asarray(X))
    R = relative.transform(torch.asarray(X))
    assert isinstance(R, np.ndarray) and R.dtype == np.float32


def test_namespace_mismatch_is_an_error():
    X = _data("float64")
    with sklearn.config_context(array_api_dispatch=True):
        relative = RelativeTransformer(10, random_state=0).fit(torch.asarray(X))
        with pytest.raises(ValueError, match="must use the same namespace"):
            relative.transform(X)


def test_fitted_on_tensors_pickles_to_numpy():
    """A transformer fitted on (GPU) tensors loads anywhere and projects NumPy input.

    Pickles hold NumPy arrays: torch tensors on CUDA would not unpickle on a machine
    without CUDA. CPU tensors stand in for CUDA ones here; benchmarks/gpu_check.sh
    runs the same on a GPU.
    """
    X = _data("float32")
    with sklearn.config_context(array_api_dispatch=True):
        relative = RelativeTransformer(10, center=True, random_state=0).fit(
            torch.asarray(X)
        )
        expected = relative.transform(torch.asarray(X)).numpy()
    loaded = pickle.loads(pickle.dumps(relative))
    for name in ("anchors_", "anchor_mean_", "anchor_indices_"):
        assert isinstance(getattr(loaded, name), np.ndarray)
        assert isinstance(getattr(relative, name), torch.Tensor)  # original untouched
    assert_allclose(loaded.transform(X), expected, atol=1e-6)


def test_reanchor_keeps_the_new_namespace():
    X = _data("float32")
    with sklearn.config_context(array_api_dispatch=True):
        relative = RelativeTransformer(10, random_state=0).fit(torch.asarray(X))
        anchors = torch.asarray(2 * X[np.asarray(relative.anchor_indices_)])
        other = relative.reanchor(anchors)
        R = other.transform(torch.asarray(2 * X))
    assert isinstance(R, torch.Tensor)
    assert_allclose(R.numpy(), relative.transform(X), atol=1e-6)


def test_core_imports_without_torch():
    """The core must import and work when torch cannot be imported."""
    code = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('torch', 'skorch'):\n"
        "            raise ImportError(name + ' is blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import numpy as np, skrelrep\n"
        "assert 'torch' not in sys.modules\n"
        "X = np.random.RandomState(0).normal(size=(30, 4))\n"
        "print(skrelrep.RelativeTransformer(5, random_state=0).fit_transform(X).shape)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "(30, 5)"
