"""What a file reader gives back, and the words every reader reads the same way.

The readers of :mod:`skrelrep.utils._files` (one per file type) return
:class:`Contents` or raise :class:`Unreadable` with the reason; the caller adds the
file's name. They share one notion of a number and one of a missing value.
"""

import re
from dataclasses import dataclass, field

__all__ = [
    "MISSING_WORDS",
    "Contents",
    "Unreadable",
    "array_row",
    "is_missing_word",
    "is_number_word",
]

# What pandas reads as a missing value in a text file (its default ``na_values``),
# and what R and spreadsheets write for one: never a column name, never a label.
MISSING_WORDS = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    }
)

# A decimal number as text, as C, NumPy and pandas write them (no digit separators).
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NON_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)


class Unreadable(ValueError):
    """A file that cannot be read as the data asked for; the message is the reason."""


def array_row(index):
    """Where row ``index`` of an array is, in an error message."""
    return f"row {index} (counting from 0)"


@dataclass
class Contents:
    """What a reader found.

    Attributes
    ----------
    values : ndarray
        The array read, not yet checked (shape, dtype, finite values).
    notes : list of str
        How it was read, where that is not obvious ("line 1 is a header"), for the
        file's description.
    where : callable
        ``where(i)`` says where row ``i`` of ``values`` is in the file ("line 9",
        "row 7 (counting from 0)"), for error messages.
    columns : list of str or None
        The names of the columns of ``values``, where the file names them.
    """

    values: object
    notes: list = field(default_factory=list)
    where: object = array_row
    columns: list | None = None


def is_number_word(text):
    """Whether ``text`` is a number (NaN and infinities included), spaces aside."""
    text = text.strip()
    return bool(_NUMBER.fullmatch(text) or _NON_FINITE.fullmatch(text))


def is_missing_word(text):
    """Whether ``text`` stands for a missing value (an empty cell, "NA", "nan"...)."""
    return text.strip() in MISSING_WORDS
