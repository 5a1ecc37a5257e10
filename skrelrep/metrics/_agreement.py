"""Row-by-row agreement of two representations with matching columns."""

import numpy as np

from ..utils._norms import normalize_rows
from ._chance import warn_if_cosines_at_chance
from ._validation import check_pair

__all__ = ["cosine_agreement"]


def cosine_agreement(A, B):
    """Mean cosine similarity between each item's two representations.

    The score is ``mean_i cos(A[i], B[i])``, with ``cos(a, b) = a . b / (|a| |b|)``
    taken as 0 when either vector is zero. It is 1 when every row points the same way
    in both spaces and near 0 for unrelated spaces. It compares coordinates directly,
    so it is meaningful only when the columns of ``A`` and ``B`` mean the same thing,
    such as relative representations on the same (or parallel) anchors. When items
    agree with themselves no more than with other items (each compared with one other
    item, a fixed random pairing, three standard errors), it warns with a
    :class:`ChanceAgreementWarning`: that is what the raw embeddings of two encoders
    give.

    Parameters
    ----------
    A : array-like of shape (n_samples, n_features)
        The items in the first space.
    B : array-like of shape (n_samples, n_features)
        The same items, in the same order, in the second space.

    Returns
    -------
    score : float
        Mean cosine similarity, in ``[-1, 1]``.

    See Also
    --------
    linear_cka : Similarity of two spaces that does not need matching columns.

    Examples
    --------
    >>> import numpy as np
    >>> from skrelrep.metrics import cosine_agreement
    >>> A = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0]])
    >>> B = np.array([[2.0, 0.0], [1.0, 1.0], [0.0, 0.0]])

    The cosines of the three pairs are 1, 1/sqrt(2) and 0 (a zero row):

    >>> round(cosine_agreement(A, B), 4)
    0.569
    """
    A, B = check_pair(A, B, same_width=True)
    # Unit rows first: a product of two large (or small) rows could overflow.
    A, B = normalize_rows(A, np), normalize_rows(B, np)
    cosines = np.einsum("ij,ij->i", A, B)
    # Each item against another one (a fixed random pairing), for the chance check.
    order = np.random.RandomState(0).permutation(A.shape[0])
    others = np.einsum("ij,ij->i", A[order], B[np.roll(order, -1)])
    warn_if_cosines_at_chance(cosines[order], others)
    return float(np.mean(cosines, dtype=np.float64))
