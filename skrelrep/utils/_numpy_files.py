"""``.npy`` files and ``.npz`` archives, read as plain arrays: pickles never loaded.

A file is recognised by its first bytes, not its name: a ``.npy`` file starts with
NumPy's magic string, a ``.npz`` archive is a zip file of ``.npy`` members. The
header of each array is read first, so an array of Python objects (stored as a
pickle, which could run code) is refused before any of its data is read; every other
failure (a truncated file, a file being rewritten) is reported with NumPy's own
reason.
"""

import zipfile

import numpy as np

from ._file_contents import Contents, Unreadable

__all__ = ["read_npy", "read_npz"]

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK"
_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def read_npy(path, selector, *, labels):
    """The array of a ``.npy`` file."""
    start = _first_bytes(path)
    if start.startswith(_ZIP_MAGIC):
        raise Unreadable("is a .npz archive; name it .npz")
    if not start.startswith(_NPY_MAGIC):
        raise _not_numpy()
    with open(path, "rb") as handle:
        _refuse_objects(handle, "the array", ".npy")
    with open(path, "rb") as handle:
        return Contents(_read_array(handle, ".npy"))


def read_npz(path, key, *, labels):
    """The only array of a ``.npz`` archive, or the one named ``key``."""
    start = _first_bytes(path)
    if start.startswith(_NPY_MAGIC):
        raise Unreadable("is a .npy file, not a .npz archive")
    if not start.startswith(_ZIP_MAGIC):
        raise _not_numpy()
    with zipfile.ZipFile(path) as archive:
        # As numpy.load names them: each member without its ".npy".
        members = {name.removesuffix(".npy"): name for name in archive.namelist()}
        keys = ", ".join(members) or "none"
        if key is None:
            if len(members) != 1:
                raise Unreadable(
                    f"holds {len(members)} arrays ({keys}); choose one as FILE.npz:KEY"
                )
            (key,) = members
        elif key not in members:
            raise Unreadable(f"has no array {key!r}; it holds {keys}")
        with archive.open(members[key]) as handle:
            if not handle.read(len(_NPY_MAGIC)) == _NPY_MAGIC:
                raise Unreadable(f"its member {key!r} is not a NumPy array")
        with archive.open(members[key]) as handle:
            _refuse_objects(handle, f"array {key!r}", ".npz")
        with archive.open(members[key]) as handle:
            values = _read_array(handle, ".npz")
    return Contents(values, notes=[f"array {key!r}"] if len(members) > 1 else [])


def _first_bytes(path):
    with open(path, "rb") as handle:
        return handle.read(len(_NPY_MAGIC))


def _not_numpy():
    return Unreadable(
        "refused: not in NumPy's format (pickled Python objects, which could run "
        "code, are never loaded)"
    )


def _refuse_objects(handle, what, suffix):
    """Refuse an array of Python objects from its header, before its data is read.

    Headers of an unknown version are left to NumPy's reader, which refuses object
    arrays itself (``allow_pickle=False``).
    """
    try:
        version = np.lib.format.read_magic(handle)
        read_header = _HEADER_READERS.get(version)
        if read_header is None:
            return
        _, _, dtype = read_header(handle)
    except ValueError as error:
        raise Unreadable(f"cannot read as {suffix}: {_first_line(error)}") from None
    if dtype.hasobject:
        raise Unreadable(
            f"refused: {what} holds Python objects, stored as a pickle, which could "
            "run code (only numeric and string arrays are read)"
        )


def _read_array(handle, suffix):
    """The array of a ``.npy`` stream; NumPy's reason for any failure."""
    try:
        return np.lib.format.read_array(handle, allow_pickle=False)
    except (ValueError, EOFError) as error:
        raise Unreadable(f"cannot read as {suffix}: {_first_line(error)}") from None


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
