"""The encoder's outputs, cached on disk: what ``StitchedPipeline(memory=...)`` runs.

The cache is a :class:`joblib.Memory` (or any object with its ``cache`` method, as
``Pipeline(memory=...)`` accepts). Two cases:

- An encoder fitted to the data is cached as ``Pipeline(memory=...)`` caches its
  transformers, and beyond: ``fit_transform`` keyed by the unfitted encoder, the
  training inputs, ``y`` and the fit parameters (it returns the fitted encoder and
  the codes), and ``transform`` keyed by the fitted encoder itself (its hash covers
  every fitted attribute) and the inputs.
- A stateless encoder, whose fit learns nothing from the data (a
  :class:`~sklearn.frozen.FrozenEstimator`, or ``requires_fit=False`` in its tags,
  as the pretrained encoders of :mod:`skrelrep.encoders`), has its codes kept row
  by row, under the fitted encoder's hash, in ``<memory.location>/skrelrep_rows``:
  the folds of a grid search share them, so each row is encoded once, whatever
  arrays hold it (see :mod:`._row_table`). This needs texts (a list of str) or a
  NumPy array as input, a 2-D NumPy array as output and a Memory with a
  ``location``; otherwise the codes are cached per input array as above.

Without a cache location every call goes straight to the encoder, with no hashing.
"""

import hashlib
from pathlib import Path

import joblib
import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.utils import get_tags
from sklearn.utils.validation import check_memory

from ._row_table import RowTable

__all__ = ["EncoderCache", "is_stateless"]

_ROWS_FOLDER = "skrelrep_rows"


class _Rows:
    """An argument of a cached call: hashed by its content, shown by its size.

    joblib writes ``repr()`` of every argument into the cache's metadata; for a list
    of texts that would be every text again.
    """

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        shape = getattr(self.value, "shape", None)
        size = shape if shape is not None else len(self.value)
        return f"<{type(self.value).__name__} {size}>"


def _wrap(y):
    return None if y is None else _Rows(y)


def _fit_transform(encoder, X, y, params):
    """Fit ``encoder`` and encode ``X``, as a Pipeline fits an intermediate step."""
    X, y = X.value, None if y is None else y.value
    if hasattr(encoder, "fit_transform"):
        codes = encoder.fit_transform(X, y, **params.get("fit_transform", {}))
    else:
        codes = encoder.fit(X, y, **params.get("fit", {})).transform(
            X, **params.get("transform", {})
        )
    return codes, encoder


def _fit(encoder, X, y, params):
    fit_params = {**params.get("fit", {}), **params.get("fit_transform", {})}
    return encoder.fit(X.value, None if y is None else y.value, **fit_params)


def _transform(encoder, X):
    return encoder.transform(X.value)


def is_stateless(encoder):
    """Whether fitting ``encoder`` learns nothing from the data (frozen, pretrained)."""
    if isinstance(encoder, FrozenEstimator):
        return True
    try:
        return not get_tags(encoder).requires_fit
    except (AttributeError, TypeError, ValueError):
        return False


def row_keys(X):
    """A 16-byte digest per row of ``X`` (texts or a NumPy array), else None."""
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim == 0:
            return None
        X = np.ascontiguousarray(X)
        rows = (row.tobytes() for row in X)
        tag = f"{X.dtype.str}{X.shape[1:]}".encode()
    elif isinstance(X, list | tuple | np.ndarray) and all(
        isinstance(text, str) for text in X
    ):
        if isinstance(X, np.ndarray) and X.ndim != 1:
            return None
        rows = (text.encode("utf-8", "surrogatepass") for text in X)
        tag = b"str"
    else:
        return None
    digests = [hashlib.blake2b(tag + row, digest_size=16).digest() for row in rows]
    return np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(-1, 16)


class EncoderCache:
    """Cached ``fit_transform`` and ``transform`` of an encoder.

    Parameters
    ----------
    memory : None, str or object with a ``cache`` method
        Where the outputs are kept, as for ``Pipeline(memory=...)``; None caches
        nothing.
    """

    def __init__(self, memory):
        self.memory = check_memory(memory)
        # check_memory maps None to a Memory without location, which caches nothing.
        location = getattr(self.memory, "location", None)
        self.enabled = location is not None or not hasattr(self.memory, "location")
        self._rows_folder = None if location is None else Path(location) / _ROWS_FOLDER

    def fit_transform(self, encoder, X, y=None, params=None):
        """``(codes, fitted encoder)``; ``params`` as routed to a Pipeline's step."""
        params = {} if params is None else params
        if not self.enabled:
            return _fit_transform(encoder, _Rows(X), _wrap(y), params)
        if self._by_rows(encoder, X):
            if not isinstance(encoder, FrozenEstimator):  # whose fit does nothing
                encoder = self.memory.cache(_fit)(encoder, _Rows(X), _wrap(y), params)
            return self.transform(encoder, X), encoder
        return self.memory.cache(_fit_transform)(encoder, _Rows(X), _wrap(y), params)

    def transform(self, encoder, X):
        """The codes of ``X`` by the fitted ``encoder``."""
        if not self.enabled:
            return encoder.transform(X)
        if self._by_rows(encoder, X):
            keys = row_keys(X)
            if keys is not None and len(keys):
                codes = self._transform_rows(encoder, X, keys)
                if codes is not None:
                    return codes
        return self.memory.cache(_transform)(encoder, _Rows(X))

    def _by_rows(self, encoder, X):
        return (
            self._rows_folder is not None
            and is_stateless(encoder)
            and (isinstance(X, list | tuple | np.ndarray))
        )

    def _transform_rows(self, encoder, X, keys):
        """Codes from the encoder's row table, encoding only the rows not in it."""
        return RowTable(self._rows_folder / joblib.hash(encoder)).codes(
            encoder, X, keys
        )
