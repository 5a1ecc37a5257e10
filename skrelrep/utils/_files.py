"""Embeddings and labels read from a user's files, as data only (``skrelrep compare``).

Files may come from strangers, so nothing in one can make Python run code: NumPy
files are read with ``allow_pickle=False`` (object arrays and pickles are refused),
Parquet files with pyarrow's table reader (column types checked, no pandas metadata
applied), CSV files as text. Every problem is a :class:`DataFileError` whose message
starts with the file's name.

Formats of an embedding matrix (rows are items, columns features):

- ``.npy``: a 2-D numeric array;
- ``.npz``: the file's only array, or ``FILE.npz:KEY`` for one of several;
- ``.parquet``: numeric columns, or a single column of equal-length numeric lists;
- ``.csv``: comma-separated numbers; a first line that is not all numbers, or is
  ``0,1,2,...`` (pandas' names for unnamed columns), is a header and skipped.

Labels (one per row): a 1-D ``.npy``/``.npz`` array (numbers or strings), a
one-column ``.parquet`` file, or a ``.csv``/``.txt`` file with one label per line and
no header.
"""

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["DataFileError", "read_labels", "read_matrix"]

SUFFIXES = (".npy", ".npz", ".parquet", ".csv")
_NAN_WORDS = {"nan", "+nan", "-nan"}


class DataFileError(ValueError):
    """A file that cannot be read as the data asked for; the message names it."""


def read_matrix(name):
    """A 2-D array of finite numbers from file ``name`` (``FILE.npz:KEY`` allowed)."""
    path, key = _split_key(name)
    values = _read(path, key, name, labels=False)
    if values.ndim != 2:
        raise DataFileError(
            f"{name}: expected a 2-D array (rows are items, columns features), got "
            f"shape {values.shape}"
        )
    if values.shape[0] < 2 or values.shape[1] < 1:
        raise DataFileError(
            f"{name}: needs at least 2 rows and 1 column, got shape {values.shape}"
        )
    if values.dtype.kind not in "biuf":
        raise DataFileError(
            f"{name}: holds {values.dtype} values, not numbers (int, float or bool)"
        )
    values = values.astype(np.float32 if values.dtype == np.float32 else np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad.any(axis=1))[0])
        raise DataFileError(
            f"{name}: contains NaN or infinite values ({int(bad.sum())} of them; the "
            f"first in row {row})"
        )
    return values


def read_labels(name):
    """A 1-D array of labels (numbers or strings) from file ``name``."""
    path, key = _split_key(name)
    labels = _read(path, key, name, labels=True)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise DataFileError(
            f"{name}: expected one label per row (a 1-D array or one column), got "
            f"shape {labels.shape}"
        )
    if labels.dtype.kind not in "biufUS":
        raise DataFileError(
            f"{name}: labels must be numbers or strings, not {labels.dtype}"
        )
    return labels


def _split_key(name):
    """``"a.npz:key"`` -> ``(Path("a.npz"), "key")``; a file of that name wins."""
    name = str(name)
    stem, colon, key = name.rpartition(":")
    if colon and stem.lower().endswith(".npz") and not Path(name).exists():
        return Path(stem), key
    return Path(name), None


def _read(path, key, name, *, labels):
    suffix = path.suffix.lower()
    allowed = (*SUFFIXES, ".txt") if labels else SUFFIXES
    if suffix not in allowed:
        raise DataFileError(
            f"{name}: unsupported file type {suffix or '(none)'!r}; use "
            + ", ".join(allowed)
        )
    if key is not None and suffix != ".npz":
        raise DataFileError(f"{name}: a :KEY is only for .npz files")
    try:
        if suffix in (".npy", ".npz"):
            return _read_numpy(path, key, name, suffix)
        if suffix == ".parquet":
            return _read_parquet(path, name, labels=labels)
        return _read_text(path, name, labels=labels)
    except DataFileError:
        raise
    except OSError as error:
        raise DataFileError(
            f"{name}: cannot read ({error.strerror or error})"
        ) from None
    except Exception as error:  # a malformed file: whatever the reader raised
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataFileError(f"{name}: cannot read as {suffix}: {reason}") from None


def _read_numpy(path, key, name, suffix):
    try:
        loaded = np.load(path, allow_pickle=False)
    except ValueError as error:  # a pickle, an object array, or not NumPy's format
        raise DataFileError(
            f"{name}: refused: not a plain NumPy array (pickled Python objects, which "
            "could run code, are never loaded)"
        ) from error
    if isinstance(loaded, np.ndarray):
        if suffix == ".npz":
            raise DataFileError(f"{name}: is a .npy file, not a .npz archive")
        return loaded
    with loaded:
        if suffix == ".npy":
            raise DataFileError(f"{name}: is a .npz archive; name it .npz")
        keys = list(loaded.files)
        if key is None:
            if len(keys) != 1:
                raise DataFileError(
                    f"{name}: holds {len(keys)} arrays ({', '.join(keys) or 'none'}); "
                    f"choose one as {name}:KEY"
                )
            key = keys[0]
        elif key not in keys:
            raise DataFileError(
                f"{name}: has no array {key!r}; it holds {', '.join(keys) or 'none'}"
            )
        try:
            return loaded[key]
        except ValueError as error:  # an object array inside the archive
            raise DataFileError(
                f"{name}: refused: array {key!r} holds pickled Python objects, which "
                "could run code (only plain numeric arrays are read)"
            ) from error


def _read_parquet(path, name, *, labels):
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise DataFileError(
            f"{name}: reading .parquet files needs pyarrow: pip install "
            "'skrelrep[report]'"
        ) from None
    table = pq.read_table(path)

    def numeric(kind):
        return (
            pa.types.is_integer(kind)
            or pa.types.is_floating(kind)
            or (pa.types.is_boolean(kind))
        )

    columns = table.column_names
    if len(columns) == 1 and (
        pa.types.is_list(table.schema[0].type)
        or pa.types.is_fixed_size_list(table.schema[0].type)
        or pa.types.is_large_list(table.schema[0].type)
    ):
        if not numeric(table.schema[0].type.value_type):
            raise DataFileError(
                f"{name}: column {columns[0]!r} holds non-numeric lists"
            )
        rows = table.column(0).to_pylist()
        if any(row is None for row in rows) or len({len(row) for row in rows}) > 1:
            raise DataFileError(
                f"{name}: the lists of column {columns[0]!r} are missing or of "
                "different lengths"
            )
        return np.array(rows, dtype=np.float64)
    for column, field in zip(columns, table.schema, strict=True):
        text = labels and (
            pa.types.is_string(field.type) or pa.types.is_large_string(field.type)
        )
        if not numeric(field.type) and not text:
            raise DataFileError(
                f"{name}: column {column!r} holds {field.type}, not numbers"
            )
    if not columns:
        raise DataFileError(f"{name}: has no columns")
    arrays = [table.column(i).to_numpy() for i in range(len(columns))]
    kinds = {array.dtype.kind for array in arrays}
    if "O" in kinds:  # string columns: labels only
        return np.column_stack([array.astype(str) for array in arrays])
    return np.column_stack(arrays)


def _read_text(path, name, *, labels):
    # Every cell as text: nothing is interpreted but numbers, and only below.
    frame = pd.read_csv(
        path, header=None, dtype=str, keep_default_na=False, skip_blank_lines=True
    )
    if labels:
        if frame.shape[1] != 1:
            raise DataFileError(
                f"{name}: expected one label per line, got {frame.shape[1]} columns"
            )
        return frame[0].to_numpy(dtype=str)
    numbers = frame.apply(lambda column: pd.to_numeric(column, errors="coerce"))
    text = frame.apply(lambda column: column.str.strip().str.lower())
    not_numbers = numbers.isna() & ~text.isin(_NAN_WORDS)
    first_line = 0
    # A header: a first line with a cell that is not a number, or the column numbers
    # 0, 1, ... that pandas writes for a frame without column names.
    pandas_names = [str(j) for j in range(frame.shape[1])]
    if not_numbers.iloc[0].any() or frame.iloc[0].str.strip().tolist() == pandas_names:
        if frame.iloc[0, 0].strip() == "":
            raise DataFileError(
                f"{name}: the first column has no name, as pandas writes its index; "
                "write the file with index=False"
            )
        numbers, not_numbers, first_line = numbers.iloc[1:], not_numbers.iloc[1:], 1
    if not_numbers.to_numpy().any():
        row, column = np.argwhere(not_numbers.to_numpy())[0]
        value = frame.iloc[row + first_line, column]
        raise DataFileError(
            f"{name}: line {row + first_line + 1}, column {column + 1}: {value!r} is "
            "not a number"
        )
    return numbers.to_numpy(dtype=np.float64)
