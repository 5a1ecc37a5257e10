"""The one place where skrelrep touches private scikit-learn names.

scikit-learn keeps its Array API plumbing, parameter validation, metadata-routing
state and container indexing in private modules. Importing them from here alone
means that a scikit-learn upgrade that moves one of them breaks a single file, with
a fallback where we can write one.
"""

from sklearn.base import _fit_context
from sklearn.utils import _safe_indexing
from sklearn.utils._array_api import get_namespace_and_device
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    RealNotInt,
    StrOptions,
)
from sklearn.utils.metadata_routing import _routing_enabled

try:  # scikit-learn >= 1.8
    from sklearn.utils._array_api import check_same_namespace
except ImportError:  # pragma: no cover - older scikit-learn does not check

    def check_same_namespace(X, estimator, *, attribute, method):
        """No-op: older scikit-learn has no namespace consistency check."""


__all__ = [
    "HasMethods",
    "Interval",
    "InvalidParameterError",
    "RealNotInt",
    "StrOptions",
    "_fit_context",
    "_routing_enabled",
    "_safe_indexing",
    "check_same_namespace",
    "get_namespace_and_device",
]
