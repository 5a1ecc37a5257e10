"""What every loader shares: the missing-data error, subsampling, tokenising."""

import numbers
import re

import numpy as np
from sklearn.utils import check_random_state, check_scalar

__all__ = [
    "APT_INSTALL",
    "DataNotInstalledError",
    "check_count",
    "choose_rows",
    "finish",
    "not_installed",
    "tokenize",
]

APT_INSTALL = "apt-get install -y --no-install-recommends"


class DataNotInstalledError(OSError):
    """A data set's package is missing; the message names the command installing it.

    Attributes
    ----------
    install : str
        The shell command that installs the missing package.
    """


def not_installed(what, install, detail):
    """The error for a missing data package, naming the install command."""
    error = DataNotInstalledError(
        f"{what} is not installed ({detail}). Install it with:\n    {install}"
    )
    error.install = install
    return error


def check_count(value, name):
    """``None`` or a positive integer."""
    if value is not None:
        check_scalar(value, name, numbers.Integral, min_val=1)
    return value


def choose_rows(n_total, n_rows, random_state):
    """Indices of ``min(n_rows, n_total)`` of ``n_total`` rows, in increasing order.

    ``random_state=None`` takes the first rows, so that loaders stay deterministic
    without a seed; otherwise a random subset drawn without replacement.
    """
    if n_rows is None or n_rows >= n_total:
        return np.arange(n_total)
    if random_state is None:
        return np.arange(n_rows)
    rng = check_random_state(random_state)
    return np.sort(rng.choice(n_total, size=n_rows, replace=False))


def finish(bunch, return_X_y):
    """``(data, target)`` or the bunch, as scikit-learn loaders return."""
    return (bunch.data, bunch.target) if return_X_y else bunch


_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


def tokenize(text, lowercase=True):
    """Words of ``text``: runs of letters, with inner apostrophes (``don't``).

    Digits, punctuation and symbols are dropped; typographic apostrophes count as
    ``'``.
    """
    if lowercase:
        text = text.lower()
    return _WORD.findall(text.replace("\u2019", "'"))
