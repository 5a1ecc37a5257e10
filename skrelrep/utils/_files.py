"""Embeddings and labels read from a user's files, as data only.

The readers of the command line (``skrelrep compare``, and any command that reads
the user's vectors): :func:`read_embeddings` and :func:`read_labels` take a file
spec and return the array and a one-line description of what was read. Every
problem is a :class:`DataFileError`, whose message starts with the spec.

Files may come from strangers, so nothing in one can make Python run code: NumPy
files are read with ``allow_pickle=False`` after their headers are checked (object
arrays and pickles are refused), Parquet files as typed columns with pyarrow, CSV
files as text.

Formats of an embedding matrix (rows are items, columns features):

- ``.npy``: a 2-D numeric array;
- ``.npz``: the file's only array, or ``FILE.npz:KEY`` for one of several;
- ``.parquet``: numeric columns (one feature each), or one column of equal-length
  numeric lists: the only such column, or ``FILE.parquet:COLUMN``; a pandas index
  stored in the file is never read as data;
- ``.csv``: comma-separated numbers; a first line is a header only when all its cells
  are names, or when it is ``0,1,2,...`` (pandas' names for unnamed columns).

In every format, a column of increasing whole numbers among fractional features (an
index or item ids) is refused: it is never a feature.

- ``.faiss`` or ``.index``: a FAISS index that stores its vectors (a flat index, or
  HNSW, NSG or IVF over full vectors), read back in the index's order; one that stores
  compressed codes is refused (see :mod:`._faiss_files`).

Labels (one per row): a 1-D ``.npy``/``.npz`` array (numbers or strings), a
one-column ``.parquet`` file or ``FILE.parquet:COLUMN``, or a ``.csv``/``.txt`` file
with one label per line and no header. A missing label (NaN, a null, an empty line,
``NA``) is refused, and so are fractional numbers (a continuous target, not classes).

Each file type has one reader in ``_READERS``; a new type is one more entry there, a function ``reader(path, selector, *, labels)``
returning :class:`~skrelrep.utils._file_contents.Contents`.
"""

from pathlib import Path

import numpy as np

from ._csv_files import read_csv
from ._faiss_files import FAISS_SUFFIXES, read_faiss
from ._file_contents import MISSING_WORDS, Unreadable
from ._numpy_files import read_npy, read_npz
from ._parquet_files import read_parquet

__all__ = ["SUFFIXES", "DataFileError", "read_embeddings", "read_labels", "split_spec"]

# suffix -> reader(path, selector, *, labels) -> Contents
_READERS = {
    ".npy": read_npy,
    ".npz": read_npz,
    ".parquet": read_parquet,
    ".csv": read_csv,
    ".txt": read_csv,  # labels only
    **dict.fromkeys(FAISS_SUFFIXES, read_faiss),  # embeddings only
}
SUFFIXES = (".npy", ".npz", ".parquet", ".csv", *FAISS_SUFFIXES)
_LABEL_SUFFIXES = (".npy", ".npz", ".parquet", ".csv", ".txt")
# The suffixes whose files hold several arrays, and what a ":NAME" selects in them.
_SELECTORS = {".npz": "KEY", ".parquet": "COLUMN"}


class DataFileError(ValueError):
    """A file that cannot be read as the data asked for.

    Attributes
    ----------
    name : str
        The file spec as given (with its ``:KEY`` or ``:COLUMN``).
    reason : str
        What is wrong; the message is ``"{name}: {reason}"``.
    """

    def __init__(self, name, reason):
        super().__init__(f"{name}: {reason}")
        self.name, self.reason = str(name), reason

    def __reduce__(self):  # pickles (to another process) with both parts
        return type(self), (self.name, self.reason)


def read_embeddings(spec):
    """A 2-D array of finite numbers from file ``spec`` (``.npz:KEY`` and
    ``.parquet:COLUMN`` allowed).

    Returns
    -------
    values : ndarray of shape (n_items, n_features)
        float32 when the file holds float32, float64 otherwise.
    description : str
        What was read, for a person: ``"60 items x 5 features, float64"``, and how
        where it is not obvious (``"line 1 is a header"``, ``"column 'embedding'"``).

    Raises
    ------
    DataFileError
        A missing, unreadable or non-numeric file, NaN or infinite values.
    """
    contents = _read(spec, labels=False)
    values = contents.values
    if values.ndim != 2:
        _fail(
            spec,
            "expected a 2-D array (rows are items, columns features), got shape "
            f"{values.shape}",
        )
    if values.shape[0] < 2 or values.shape[1] < 1:
        _fail(spec, f"needs at least 2 rows and 1 column, got shape {values.shape}")
    if values.dtype.kind not in "biuf":
        _fail(spec, f"holds {values.dtype} values, not numbers (int, float or bool)")
    single = values.dtype.kind == "f" and values.dtype.itemsize == 4  # any byte order
    values = values.astype(np.float32 if single else np.float64, copy=False)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad.any(axis=1))[0])
        _fail(
            spec,
            f"contains NaN or infinite values ({int(bad.sum())} of them; the first "
            f"in {contents.where(row)})",
        )
    _refuse_an_index_column(spec, values, contents.columns)
    n_items, width = values.shape
    description = f"{n_items} items x {width} features, {values.dtype}"
    return values, "; ".join([description, *contents.notes])


def read_labels(spec):
    """A 1-D array of labels (numbers or strings) from file ``spec``.

    Returns
    -------
    labels : ndarray of shape (n_items,)
    description : str
        ``"60 labels, 2 classes"``, and how they were read where not obvious.

    Raises
    ------
    DataFileError
        A missing or unreadable file, a missing label, fractional numbers, or labels
        that are all different (no class of two items).
    """
    contents = _read(spec, labels=True)
    labels = contents.values
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        _fail(
            spec,
            "expected one label per row (a 1-D array or one column), got shape "
            f"{labels.shape}",
        )
    if labels.dtype.kind not in "biufUS":
        _fail(spec, f"labels must be numbers or strings, not {labels.dtype}")
    if labels.dtype.kind == "S":
        try:
            labels = labels.astype(str)
        except UnicodeDecodeError:
            _fail(spec, "its byte-string labels are not ASCII; save them as str")
    if labels.dtype.kind == "f":
        missing = ~np.isfinite(labels)
        if missing.any():
            row = int(np.flatnonzero(missing)[0])
            _fail(
                spec,
                f"the label in {contents.where(row)} is {labels[row]}: a missing "
                "label (every item needs one)",
            )
        fractional = labels != np.round(labels)
        if fractional.any():
            row = int(np.flatnonzero(fractional)[0])
            _fail(
                spec,
                f"holds fractional numbers ({labels[row].item()!r} in "
                f"{contents.where(row)}): "
                "labels name classes; bin a continuous target into classes first",
            )
    if labels.dtype.kind == "U":
        missing = np.isin(np.char.strip(labels), list(MISSING_WORDS))
        if missing.any():
            row = int(np.flatnonzero(missing)[0])
            _fail(
                spec,
                f"the label in {contents.where(row)} is {str(labels[row])!r}, which "
                "stands for a missing value: every item needs a label (rename the "
                "class if it is one)",
            )
    n_classes = np.unique(labels).shape[0]
    if n_classes == labels.shape[0] > 1:
        _fail(
            spec,
            f"all {n_classes} labels differ: label purity needs classes of at least "
            "2 items (are these item ids?)",
        )
    description = f"{labels.shape[0]} labels, {n_classes} classes"
    return labels, "; ".join([description, *contents.notes])


def _refuse_an_index_column(spec, values, names):
    """Refuse a column of increasing whole numbers among fractional features.

    That is what an index or item ids look like (a pandas index written to a CSV file
    under a name, an ``id`` column), never what a feature of an embedding looks
    like: read as a feature, it would dominate every measure. Files of whole numbers
    only (counts) have no column that stands out, and are read as they are.
    """
    n_items, width = values.shape
    if n_items < 3 or width < 2:
        return
    head = values[:3]
    candidates = np.flatnonzero(
        (head == np.round(head)).all(axis=0) & (np.diff(head, axis=0) > 0).all(axis=0)
    )
    for column in candidates:
        numbers = values[:, column]
        if (numbers != np.round(numbers)).any() or (np.diff(numbers) <= 0).any():
            continue
        others = np.arange(width) != column
        if not any(  # whole numbers everywhere: no column stands out
            (rows != np.round(rows)).any()
            for rows in (values[i : i + 1024, others] for i in range(0, n_items, 1024))
        ):
            return
        name = f" ({names[column]!r})" if names else ""
        _fail(
            spec,
            f"column {column + 1}{name} holds increasing whole numbers "
            f"({numbers[0]:g}, {numbers[1]:g}, ..., {numbers[-1]:g}), as an index or "
            "item ids do, not a feature: write the file without it (from pandas: "
            "index=False)",
        )


def split_spec(spec):
    """``"a.npz:key"`` -> ``(Path("a.npz"), "key")``; a file of that very name wins."""
    name = str(spec)
    stem, colon, selector = name.rpartition(":")
    if colon and Path(stem).suffix.lower() in _SELECTORS and not Path(name).exists():
        return Path(stem), selector
    return Path(name), None


def _fail(spec, reason):
    raise DataFileError(spec, reason)


def _read(spec, *, labels):
    path, selector = split_spec(spec)
    suffix = path.suffix.lower()
    allowed = _LABEL_SUFFIXES if labels else SUFFIXES
    if suffix not in allowed:
        _fail(
            spec,
            f"unsupported file type {suffix or '(none)'!r}; use " + ", ".join(allowed),
        )
    if selector is not None and suffix not in _SELECTORS:
        _fail(
            spec,
            "a :NAME after the file is for .npz (:KEY) and .parquet (:COLUMN) files",
        )
    if selector == "":
        _fail(spec, f"no {_SELECTORS[suffix]} after the colon")
    try:
        return _READERS[suffix](path, selector, labels=labels)
    except Unreadable as error:
        _fail(spec, str(error))
    except OSError as error:
        _fail(spec, f"cannot read ({error.strerror or error})")
    except Exception as error:  # a malformed file: whatever its reader raised
        text = str(error).strip()
        reason = text.splitlines()[0] if text else type(error).__name__
        _fail(spec, f"cannot read as {suffix}: {reason}")
