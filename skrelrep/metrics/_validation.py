"""Input checks shared by the measures: two row-aligned spaces of the same items."""

import numbers

import numpy as np
from sklearn.utils import check_array, check_scalar

from ..utils._array_api import to_numpy

__all__ = ["check_batch_size", "check_pair"]


def check_pair(A, B, *, same_width):
    """Validate two row-aligned arrays and bring them to one floating dtype."""
    A = check_array(
        to_numpy(A),
        dtype=[np.float64, np.float32],
        ensure_min_samples=2,
        input_name="A",
    )
    B = check_array(
        to_numpy(B),
        dtype=[np.float64, np.float32],
        ensure_min_samples=2,
        input_name="B",
    )
    if A.shape[0] != B.shape[0]:
        raise ValueError(
            "A and B must have the same number of rows (row i is the same item in "
            f"both spaces); got {A.shape[0]} and {B.shape[0]}."
        )
    if same_width and A.shape[1] != B.shape[1]:
        raise ValueError(
            "A and B must have the same number of columns for this metric, which "
            f"compares A[i] with rows of B directly; got {A.shape[1]} and "
            f"{B.shape[1]}. Compare relative representations built on the same "
            "(parallel) anchors, or use jaccard_at_k or linear_cka."
        )
    dtype = np.result_type(A.dtype, B.dtype)
    return A.astype(dtype, copy=False), B.astype(dtype, copy=False)


def check_batch_size(batch_size):
    if batch_size is not None:
        check_scalar(batch_size, "batch_size", numbers.Integral, min_val=1)
