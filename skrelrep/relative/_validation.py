"""What RelativeTransformer accepts as rows: one validation for every input path.

In-memory rows (NumPy, CSR, any Array API namespace) go through scikit-learn's
``validate_data`` with floating dtypes kept (half precision computed in float32) and
CSR accepted; dask arrays get the same feature-count and feature-name checks without
being computed. A wrong width at ``transform`` names the fix for rows of another
encoder (``HINT``). Whether NaN and infinity are looked for is the projection's call:
its fused kernel finds them at no cost.
"""

from sklearn import get_config
from sklearn.utils.validation import validate_data

from ..utils._array_api import float_dtypes, to_numpy_if_tensor
from ..utils._compat import get_namespace_and_device
from ..utils._finite import quiet_finite_check
from ._input_space import width_hint

__all__ = ["HINT", "validate_dask", "validate_input"]

#: What an error about rows of another space suggests.
HINT = (
    "Rows of another encoder are projected by reanchor(that encoder's embeddings "
    "of the anchor items)."
)


def validate_input(estimator, X, *, reset, finds_non_finite=None):
    """``validate_data`` for ``estimator``, floating dtypes kept, CSR accepted.

    Parameters
    ----------
    estimator : RelativeTransformer
    X : array-like or CSR matrix
    reset : bool
        Fitting (record the width and feature names) or not (check them).
    finds_non_finite : callable, default=None
        ``finds_non_finite(xp)`` says whether the projection that will read ``X``
        raises on NaN and infinity by itself (see ``Projection.finds_non_finite``);
        then ``X`` is not read once more to check them first.
    """
    if not get_config()["array_api_dispatch"]:
        X = to_numpy_if_tensor(X)
    xp, _, _ = get_namespace_and_device(X)
    check_finite = finds_non_finite is None or not finds_non_finite(xp)
    with width_hint(HINT, active=not reset), quiet_finite_check():
        return validate_data(
            estimator,
            X,
            reset=reset,
            accept_sparse="csr",
            dtype=float_dtypes(X, xp),
            ensure_all_finite=check_finite,
        )


def validate_dask(estimator, X, *, reset):
    """A dask ``X`` checked as ``validate_input`` checks arrays, without computing it.

    Float32 and float64 are kept (other numeric dtypes become float64, lazily); the
    width and feature names are recorded or checked. When fitting, unknown row
    chunks are computed (only their lengths) and at least one row and one feature
    are required. Values are checked block by block when they are computed.
    """
    from ..utils import _dask

    X = _dask.check_dask_array(X, estimator)
    # Sets or checks n_features_in_ (and drops feature_names_in_), without
    # converting X.
    with width_hint(HINT, active=not reset):
        validate_data(estimator, X, skip_check_array=True, reset=reset)
    return _dask.with_known_rows(X, estimator) if reset else X
