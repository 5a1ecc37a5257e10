"""Warnings that point at the user's line, not into skrelrep or scikit-learn."""

import functools
import sys
import warnings
from pathlib import Path

__all__ = ["warn"]


@functools.cache
def _internal_roots():
    """The folders whose frames a warning skips: skrelrep's and scikit-learn's."""
    import sklearn

    return (
        str(Path(__file__).resolve().parents[1]),
        str(Path(sklearn.__file__).resolve().parent),
    )


def warn(message, category=UserWarning):
    """``warnings.warn`` at the first frame outside skrelrep and scikit-learn.

    The warning then names the line of the user's code that called into the library,
    however deep inside skrelrep (and scikit-learn's wrappers, such as ``set_output``
    or ``Pipeline``) it was raised.
    """
    roots = _internal_roots()
    frame, level = sys._getframe(1), 1
    while frame is not None and str(
        Path(frame.f_code.co_filename).resolve()
    ).startswith(roots):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level + 1)
