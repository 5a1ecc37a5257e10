"""Arrays of any namespace: NumPy, SciPy sparse, torch, array-api-strict, CuPy.

The estimators compute in the namespace and on the device of their input (scikit-learn's
Array API support); these helpers move arrays between namespaces and take rows of any
of them, so that no other module needs to know which library an array comes from.
"""

import numpy as np
import scipy.sparse as sp

from ._compat import _safe_indexing, get_namespace_and_device

__all__ = [
    "as_dtype",
    "float_dtypes",
    "is_dask_collection",
    "is_numpy_namespace",
    "itemsize",
    "take_rows",
    "to_namespace",
    "to_numpy",
    "to_numpy_if_tensor",
]


def is_numpy_namespace(xp):
    """True for NumPy and its array-api-compat wrapper."""
    # scikit-learn vendors array-api-compat, so its wrapper may live under sklearn.
    return xp.__name__ == "numpy" or xp.__name__.endswith("array_api_compat.numpy")


def is_dask_collection(X):
    """True for dask arrays (checked by module name: dask is an optional extra)."""
    return type(X).__module__.split(".", 1)[0] == "dask"


def to_numpy_if_tensor(X):
    """Host NumPy copy of an Array API array (torch, array-api-strict, CuPy); else ``X``.

    Without array API dispatch scikit-learn treats such arrays as array-likes and
    upcasts float32 to float64; converting them first keeps their dtype.
    """
    if hasattr(X, "__dlpack__") and not isinstance(X, np.ndarray):
        return to_numpy(X)
    return X


def to_numpy(array):
    """Return ``array`` as a NumPy ndarray on the host (no copy for NumPy input).

    Handles NumPy, scipy sparse (returned unchanged), torch tensors on any device and
    any array exposing ``__dlpack__`` (array-api-strict, CuPy via ``.get``).
    """
    if array is None or isinstance(array, np.ndarray) or sp.issparse(array):
        return array
    if hasattr(array, "detach") and hasattr(array, "cpu"):  # torch, any device
        array = array.detach().cpu()
        if str(array.dtype) == "torch.bfloat16":  # NumPy has no bfloat16
            array = array.float()
        return array.numpy()
    if hasattr(array, "get") and type(array).__module__.startswith("cupy"):
        return array.get()
    try:
        return np.from_dlpack(array)
    except (TypeError, AttributeError, RuntimeError, BufferError):
        return np.asarray(array)


def to_namespace(array, xp, device):
    """Move ``array`` into namespace ``xp`` on ``device`` (no-op when already there)."""
    if array is None:
        return None
    if is_numpy_namespace(xp):
        return to_numpy(array)
    if not isinstance(array, np.ndarray):
        array_xp, _, array_device = get_namespace_and_device(array)
        if array_xp.__name__ == xp.__name__ and array_device == device:
            return array
    return xp.asarray(to_numpy(array), device=device)


def as_dtype(array, dtype, xp):
    """``array`` cast to ``dtype`` (None stays None; no copy when it already is)."""
    if array is None or array.dtype == dtype:
        return array
    return xp.astype(array, dtype)


def float_dtypes(X, xp):
    """The dtypes ``validate_data`` may give ``X``: float32 for half precision.

    float16 (NumPy, torch) and bfloat16 (torch) are computed in float32, never
    through a float64 copy; other inputs keep float32 or float64 (float64 for the
    rest, such as integers).
    """
    name = str(getattr(X, "dtype", "")).rsplit(".", 1)[-1]
    if name in ("float16", "bfloat16"):
        return xp.float32
    return [xp.float64, xp.float32]


def itemsize(X, xp):
    """Bytes per element of ``X`` (NumPy, sparse or any namespace)."""
    if sp.issparse(X) or is_numpy_namespace(xp):
        return np.dtype(X.dtype).itemsize
    return xp.finfo(X.dtype).bits // 8


def take_rows(X, indices):
    """Rows ``indices`` of ``X``, in the order given and in ``X``'s own container.

    Arrays of any namespace stay in it (on their device); sparse matrices stay sparse
    (COO, DIA, ... become CSR, which can be indexed by rows); DataFrames, lists of
    strings and other containers are indexed as scikit-learn indexes them.
    """
    if sp.issparse(X):
        return (X if X.format in ("csr", "csc") else X.tocsr())[indices]
    if isinstance(X, np.ndarray):
        return X[indices]
    if hasattr(X, "__dlpack__") and hasattr(X, "shape"):
        xp, _, device = get_namespace_and_device(X)
        if not is_numpy_namespace(xp):
            return xp.take(X, xp.asarray(indices, device=device), axis=0)
    if not hasattr(X, "__getitem__") and hasattr(X, "__array__"):
        X = np.asarray(X)
    return _safe_indexing(X, indices, axis=0)
