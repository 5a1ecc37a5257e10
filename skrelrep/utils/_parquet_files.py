"""``.parquet`` files, read as typed columns with pyarrow; a pandas index is not data.

An embedding is either the file's numeric columns (one feature each) or one column of
equal-length numeric lists, the usual layout next to text and id columns: such a
column is found when it is the only one, or chosen as ``FILE.parquet:COLUMN``.
Labels are the file's only column, or the one chosen. Only the columns used are read.

A file written by pandas keeps its index among the columns (``__index_level_0__``
for a filtered frame, or the index's name), and says which in its ``pandas``
metadata: :func:`pandas_index_columns` is the one reader of that metadata, and those
columns are never read as data. A missing value (null) in a column used is refused,
naming the column and its first row.
"""

import json
import re

import numpy as np

from ._file_contents import Contents, Unreadable, array_row

__all__ = ["pandas_index_columns", "read_parquet"]

# The names pandas gives to an unnamed index level when it writes a file.
_INDEX_NAME = re.compile(r"__index_level_\d+__")


def read_parquet(path, column, *, labels):
    """The embedding (or labels) of a Parquet file; ``column`` chooses one column."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise Unreadable(
            "reading .parquet files needs pyarrow: pip install 'skrelrep[report]'"
        ) from None
    parquet = pq.ParquetFile(path)
    schema = parquet.schema_arrow
    index = pandas_index_columns(schema)
    names = schema.names
    data = [name for name in names if name not in index]
    notes = []
    if index & set(names):
        listed = ", ".join(repr(name) for name in names if name in index)
        notes.append(f"its pandas index ({listed}) is not data")
    if column is not None:
        if column in index:
            raise Unreadable(f"column {column!r} is the pandas index, not data")
        if column not in names:
            raise Unreadable(f"has no column {column!r}; its columns: {_listing(data)}")
        chosen = [column]
    elif labels:
        if len(data) != 1:
            raise Unreadable(
                f"holds {len(data)} columns ({_listing(data)}); choose the labels "
                "as FILE.parquet:COLUMN"
            )
        chosen = data
    else:
        chosen = _embedding_columns(schema, data)
        if len(chosen) == 1 and _is_list(schema.field(chosen[0]).type):
            notes.insert(0, f"column {chosen[0]!r}")
            others = [name for name in data if name != chosen[0]]
            if others:
                notes.insert(1, f"columns not read: {_listing(others)}")
    if not chosen:
        raise Unreadable("has no columns")
    if len(set(chosen)) < len(chosen) or any(names.count(n) > 1 for n in chosen):
        raise Unreadable("has several columns of the same name")
    table = parquet.read(columns=chosen, use_pandas_metadata=False)
    arrays = [
        _column_values(table.column(name).combine_chunks(), name, labels=labels)
        for name in chosen
    ]
    if len(arrays) == 1 and (arrays[0].ndim == 2 or labels):
        return Contents(arrays[0], notes=notes)
    if column is not None:
        raise Unreadable(
            f"column {column!r} holds one number per row; an embedding column holds "
            "a list of numbers per row (name no column to read all numeric columns "
            "as features)"
        )
    return Contents(np.column_stack(arrays), notes=notes, columns=chosen)


def pandas_index_columns(schema):
    """The names of the columns of a Parquet schema that hold a pandas index.

    Read from the ``index_columns`` of the schema's ``pandas`` metadata (a range
    index is described there but not stored), and any column pandas named
    ``__index_level_N__``.
    """
    found = {name for name in schema.names if _INDEX_NAME.fullmatch(name)}
    raw = (schema.metadata or {}).get(b"pandas")
    if raw is None:
        return found
    try:
        entries = json.loads(raw)["index_columns"]
        found |= {entry for entry in entries if isinstance(entry, str)}
    except (ValueError, KeyError, TypeError):
        raise Unreadable(
            "its pandas metadata cannot be read, so its index columns are unknown; "
            "write the file again"
        ) from None
    return found


def _is_list(kind):
    import pyarrow as pa

    return (
        pa.types.is_list(kind)
        or pa.types.is_large_list(kind)
        or pa.types.is_fixed_size_list(kind)
    )


def _is_numeric(kind):
    import pyarrow as pa

    return (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or (pa.types.is_boolean(kind))
    )


def _embedding_columns(schema, data):
    """The only numeric list column, or else every column (each a feature)."""
    lists = [
        name
        for name in data
        if _is_list(schema.field(name).type)
        and _is_numeric(schema.field(name).type.value_type)
    ]
    if len(lists) > 1:
        raise Unreadable(
            f"holds {len(lists)} columns of numeric lists ({_listing(lists)}); "
            "choose the embedding as FILE.parquet:COLUMN"
        )
    return lists or data


def _column_values(array, name, *, labels):
    """One column as a NumPy array: 1-D, or 2-D for a column of numeric lists."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = array.type
    if pa.types.is_dictionary(kind):  # a pandas categorical
        array, kind = array.dictionary_decode(), kind.value_type
    if array.null_count:
        first = int(np.flatnonzero(array.is_null().to_numpy(zero_copy_only=False))[0])
        count = array.null_count
        raise Unreadable(
            f"column {name!r} has {count} missing value{'s' * (count > 1)} (null), "
            f"the first in {array_row(first)}"
        )
    if _is_numeric(kind):
        return array.to_numpy(zero_copy_only=False)
    text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
    if labels and text:
        return array.to_numpy(zero_copy_only=False).astype(str)
    if labels or not _is_list(kind) or not _is_numeric(kind.value_type):
        wanted = "numbers or strings" if labels else "numbers"
        raise Unreadable(
            f"column {name!r} holds {kind}, not {wanted}"
            + ("" if labels else _EMBEDDING_LAYOUTS)
        )
    lengths = pc.list_value_length(array).to_numpy(zero_copy_only=False)
    if lengths.size and (lengths != lengths[0]).any():
        row = int(np.flatnonzero(lengths != lengths[0])[0])
        raise Unreadable(
            f"the lists of column {name!r} differ in length: {lengths[0]} numbers in "
            f"{array_row(0)}, {lengths[row]} in {array_row(row)}"
        )
    values = pc.list_flatten(array)
    if values.null_count:
        first = int(np.flatnonzero(values.is_null().to_numpy(zero_copy_only=False))[0])
        row = int(pc.list_parent_indices(array)[first].as_py())
        raise Unreadable(
            f"column {name!r} has missing values (nulls) in its lists, the first in "
            f"{array_row(row)}"
        )
    width = int(lengths[0]) if lengths.size else 0
    return values.to_numpy(zero_copy_only=False).reshape(len(array), width)


_EMBEDDING_LAYOUTS = (
    " (an embedding is numeric columns, one feature each, or one column of numeric "
    "lists, chosen as FILE.parquet:COLUMN when there are several)"
)


def _listing(names):
    return ", ".join(repr(name) for name in names) or "none"
