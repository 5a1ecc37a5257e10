"""The one place where skrelrep touches private scikit-learn helpers.

scikit-learn keeps its Array API plumbing and parameter-validation helpers in private
modules. Importing them from here alone means a scikit-learn upgrade that moves one of
them breaks a single file, with a fallback where we can write one.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import _fit_context
from sklearn.utils._array_api import get_namespace_and_device

try:  # scikit-learn >= 1.8
    from sklearn.utils._array_api import check_same_namespace
except ImportError:  # pragma: no cover - older scikit-learn does not check

    def check_same_namespace(X, estimator, *, attribute, method):
        """No-op: older scikit-learn has no namespace consistency check."""


from sklearn.utils._param_validation import HasMethods, Interval, RealNotInt, StrOptions

__all__ = [
    "HasMethods",
    "Interval",
    "RealNotInt",
    "StrOptions",
    "_fit_context",
    "check_same_namespace",
    "get_namespace_and_device",
    "is_numpy_namespace",
    "to_namespace",
    "to_numpy",
    "to_numpy_if_tensor",
]


def is_numpy_namespace(xp):
    """True for NumPy and its array-api-compat wrapper."""
    # scikit-learn vendors array-api-compat, so its wrapper may live under sklearn.
    return xp.__name__ == "numpy" or xp.__name__.endswith("array_api_compat.numpy")


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
        return array.detach().cpu().numpy()
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
