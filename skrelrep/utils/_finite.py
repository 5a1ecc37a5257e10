"""scikit-learn's check for NaN and infinity, without its spurious warning.

scikit-learn looks for NaN and infinity in one cheap pass first: it sums the array,
and only when the sum is not finite does it look at each entry. Finite entries of
both signs near the dtype's largest value sum to infinity and minus infinity, then
NaN, and NumPy warns "invalid value encountered in reduce" on the way; the entries
are then checked one by one, and the answer is right (finite input passes; NaN or
infinity still raise). The warning is about that shortcut, not about the data, so
every ``validate_data``, ``check_array`` and ``pairwise_distances`` call of skrelrep
that can see such input runs under :func:`quiet_finite_check`.
"""

import contextlib

import numpy as np

__all__ = ["quiet_finite_check"]


@contextlib.contextmanager
def quiet_finite_check():
    """Run scikit-learn's finiteness check without the shortcut's RuntimeWarning.

    Only NumPy's "invalid" floating-point state is silenced, and only in the
    calling thread: overflow, and the errors that name NaN or infinity in the
    input, are left as they are. Wrap the validating call alone.
    """
    with np.errstate(invalid="ignore"):
        yield
