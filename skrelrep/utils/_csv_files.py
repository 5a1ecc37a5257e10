"""``.csv`` files of numbers, and ``.csv``/``.txt`` files of labels, one per line.

Errors name the line as an editor shows it (the first line is line 1; blank lines
count). A first line is a header only when it cannot be data: every cell is a name
(not a number, not empty, not a missing-value word such as ``NA``), or it is exactly
``0,1,2,...``, the names pandas writes for unnamed columns. A data line with an
empty cell, ``NA`` or a typo is therefore data, and its bad cell is the error. A
header whose first cell is empty is how pandas writes its index: refused, since an
index is not data and a CSV file does not say which column holds it.

Numbers are parsed by pandas' C reader; only when that fails is the file scanned
again, line by line, to name the first bad line and cell.
"""

import csv

import numpy as np

from ._file_contents import Contents, Unreadable, is_missing_word, is_number_word

__all__ = ["read_csv"]

_ENCODING = "utf-8-sig"  # a byte-order mark, as spreadsheets write, is not data


def read_csv(path, selector, *, labels):
    """The numbers of a CSV file (a header line skipped), or its labels."""
    if labels:
        return _read_labels(path)
    header_line, header = _header(path)
    values = _parse_numbers(path, skip=header_line if header else 0)
    if header is not None and len(header) != values.shape[1]:
        raise Unreadable(
            f"line {header_line}, the header, names {len(header)} columns, and the "
            f"lines below hold {values.shape[1]} numbers"
        )
    notes = [f"line {header_line} is a header"] if header is not None else []
    return Contents(
        values,
        notes=notes,
        where=lambda row: f"line {_line_of(path, row, header)}",
        columns=header,
    )


def _rows(path):
    """``(line, cells)`` of each line that is not blank."""
    with open(path, newline="", encoding=_ENCODING) as handle:
        reader = csv.reader(handle)
        for cells in reader:
            if cells and any(cell.strip() for cell in cells):
                yield reader.line_num, cells
            elif len(cells) > 1:  # ",,": empty cells, not a blank line
                yield reader.line_num, cells


def _header(path):
    """``(line, cells)`` of the first line, with ``cells`` None unless a header."""
    first = next(_rows(path), None)
    if first is None:
        raise Unreadable("has no data (no line holds a value)")
    line, cells = first
    cells = [cell.strip() for cell in cells]

    def names(cells):
        return all(
            not is_number_word(cell) and not is_missing_word(cell) for cell in cells
        ) or cells == [str(j) for j in range(len(cells))]

    if len(cells) > 1 and cells[0] == "" and names(cells[1:]):
        raise Unreadable(
            f"line {line}: the first column has no name, as pandas writes its index; "
            "write the file with index=False"
        )
    return line, (cells if names(cells) else None)


def _parse_numbers(path, *, skip):
    """The numbers below line ``skip``; the first bad line and cell otherwise."""
    import pandas as pd

    try:
        frame = pd.read_csv(
            path,
            header=None,
            skiprows=skip,
            dtype=np.float64,
            na_filter=False,
            encoding=_ENCODING,
        )
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        _find_bad_cell(path, skip)  # raises with the line and cell
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise Unreadable(
            f"cannot read as .csv: {reason or type(error).__name__}"
        ) from None
    if frame.shape[0] == 0:
        raise Unreadable("has no data lines below its header")
    return frame.to_numpy()


def _find_bad_cell(path, skip):
    """Raise for the first line of another width, or the first cell not a number."""
    width = None
    for line, cells in _rows(path):
        if line <= skip:
            continue
        if width is None:
            width, first_line = len(cells), line
        elif len(cells) != width:
            raise Unreadable(
                f"line {line} has {len(cells)} cells, and line {first_line} has {width}"
            )
        for column, cell in enumerate(cells, start=1):
            if not is_number_word(cell):
                shown = f"{cell!r} (an empty cell)" if not cell.strip() else repr(cell)
                raise Unreadable(
                    f"line {line}, column {column}: {shown} is not a number"
                )
            if cell.strip().lower().lstrip("+-") in {"nan", "inf", "infinity"}:
                raise Unreadable(
                    f"line {line}, column {column}: {cell!r} is not a finite number"
                )
    if width is None:
        raise Unreadable("has no data lines below its header")


def _line_of(path, row, header):
    """The line of data row ``row`` (from 0), blank lines and a header skipped."""
    rows = _rows(path)
    if header is not None:
        next(rows)
    for index, (line, _) in enumerate(rows):
        if index == row:
            return line
    return "?"  # pragma: no cover - the row was read from this file


def _read_labels(path):
    """One label per line, no header; a blank line between labels is a missing one."""
    labels, lines, blank = [], [], None
    with open(path, newline="", encoding=_ENCODING) as handle:
        reader = csv.reader(handle)
        for cells in reader:
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                blank = blank or reader.line_num
                continue
            if blank is not None:
                raise Unreadable(
                    f"line {blank} is empty: a missing label (every item needs one)"
                )
            if len(cells) != 1:
                raise Unreadable(
                    f"line {reader.line_num} has {len(cells)} cells; a labels file "
                    "holds one label per line"
                )
            labels.append(cells[0].strip())
            lines.append(reader.line_num)
    return Contents(np.array(labels, dtype=str), where=lambda row: f"line {lines[row]}")
