"""Validation of the rows that RelativeTransformer fits on and projects."""

from sklearn import get_config
from sklearn.utils.validation import validate_data

from ..similarity._projection import projection_refuses_non_finite
from ..utils._array_api import float_dtypes, to_numpy_if_tensor
from ..utils._compat import get_namespace_and_device
from ._input_space import width_hint

__all__ = ["HINT", "validate_input"]

#: What an error about rows of another space suggests.
HINT = (
    "Rows of another encoder are projected by reanchor(that encoder's embeddings "
    "of the anchor items)."
)


def validate_input(estimator, X, *, reset, projecting=False):
    """``validate_data`` for ``estimator``, floating dtypes kept, CSR accepted.

    With ``projecting``, NaN and infinity are left to the projection when its fused
    cosine kernel finds them itself, at no cost: no pass over ``X`` to check them
    first (it was 6% of ``transform`` at (1M, 128, 256)).
    """
    if not get_config()["array_api_dispatch"]:
        X = to_numpy_if_tensor(X)
    xp, _, _ = get_namespace_and_device(X)
    check_finite = not projecting or not projection_refuses_non_finite(
        estimator.similarity_,
        xp,
        scale=getattr(estimator, "anchor_scale_", None),
        exponent=estimator.exponent,
        top_k=estimator.top_k,
    )
    with width_hint(HINT, active=not reset):
        return validate_data(
            estimator,
            X,
            reset=reset,
            accept_sparse="csr",
            dtype=float_dtypes(X, xp),
            ensure_all_finite=check_finite,
        )
