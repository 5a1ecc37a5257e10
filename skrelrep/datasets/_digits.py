"""scikit-learn's handwritten digits, with the loaders' subsampling options."""

from sklearn import datasets

from ._base import check_count, choose_rows, finish

__all__ = ["load_digits"]


def load_digits(*, n_class=10, n_samples=None, random_state=None, return_X_y=False):
    """Load the 8 x 8 handwritten digits that ship with scikit-learn.

    A thin wrapper of :func:`sklearn.datasets.load_digits` (1,797 images, 10 classes,
    pixel values 0-16) that adds the subsampling options of the other loaders.

    Parameters
    ----------
    n_class : int, default=10
        Number of classes to keep (digits ``0`` to ``n_class - 1``).
    n_samples : int, default=None
        Keep this many images; all by default.
    random_state : int, RandomState instance or None, default=None
        With ``n_samples``: ``None`` keeps the first images, otherwise a random subset
        (in the original order) is drawn with this seed. The result is deterministic
        either way.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (float64 array of shape (n_samples, 64)), ``target`` (int array),
        ``images`` (shape (n_samples, 8, 8)), ``target_names``, ``feature_names`` and
        ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> from skrelrep.datasets import load_digits
    >>> X, y = load_digits(n_samples=100, random_state=0, return_X_y=True)
    >>> X.shape, y.shape
    ((100, 64), (100,))
    """
    check_count(n_samples, "n_samples")
    digits = datasets.load_digits(n_class=n_class)
    rows = choose_rows(len(digits.target), n_samples, random_state)
    for key in ("data", "target", "images"):
        digits[key] = digits[key][rows]
    return finish(digits, return_X_y)
