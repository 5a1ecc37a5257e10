"""Input checks shared by the sentence encoders: a flat collection of strings."""

import numpy as np

from ._base import FrozenEncoder

__all__ = ["TextEncoder", "check_texts"]


def check_texts(X, *, owner):
    """Return ``X`` as a list of str, or raise a clear error.

    Accepts a list, tuple, 1-D array or pandas Series of strings, or a 2-D array or
    DataFrame with a single column of them (what a ``ColumnTransformer`` passes for a
    one-column list selection).
    """
    if isinstance(X, str | bytes):
        raise TypeError(
            f"{owner} expects a collection of texts, got a single "
            f"{type(X).__name__}; wrap it in a list."
        )
    if hasattr(X, "to_numpy"):  # pandas / polars containers
        X = X.to_numpy()
    if isinstance(X, np.ndarray):
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        if X.ndim != 1:
            raise ValueError(
                f"{owner} expects a 1-D collection of texts, got an array of "
                f"shape {X.shape}."
            )
    try:
        texts = list(X)
    except TypeError:
        raise TypeError(
            f"{owner} expects a collection of texts, got {type(X).__name__}."
        ) from None
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(
                f"{owner} expects every input to be a str; item {i} is "
                f"{type(text).__name__} ({text!r:.40})."
            )
        if not text.isascii() and not _is_unicode(text):
            raise ValueError(
                f"{owner} expects valid Unicode text; item {i} ({text!r:.40}) holds a "
                "lone surrogate, which has no UTF-8 form (bytes decoded with "
                "errors='surrogateescape'?). Decode the bytes with their encoding."
            )
    if not texts:
        raise ValueError(f"{owner} got an empty collection of texts.")
    # numpy str_ → plain str, so that C extensions and tokenisers accept them.
    return [str(text) for text in texts]


def _is_unicode(text):
    """Whether ``text`` encodes to UTF-8 (it does unless it holds lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class TextEncoder(FrozenEncoder):
    """Base of the sentence encoders: string input, batches of similar length."""

    def _check_input(self, X):
        return check_texts(X, owner=type(self).__name__)

    def _order(self, X):
        # Longest first: batches of similar length waste less work on padding, and a
        # too-long batch fails at once rather than at the end.
        lengths = np.fromiter((len(text) for text in X), dtype=np.int64, count=len(X))
        return np.argsort(-lengths, kind="stable")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.input_tags.string = True
        return tags
