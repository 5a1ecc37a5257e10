"""Atomic file writes: a reader sees the old content or the new one, never a part.

The new content goes to a hidden temporary file in the target's folder, is flushed to
disk, then renamed over the target with :func:`os.replace` (atomic on POSIX and on
Windows when both names are on the same file system, which the shared folder
guarantees). If writing fails or is interrupted, the temporary file is removed and the
target keeps its old content.
"""

import os
import uuid
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_text", "check_writable_dir"]


def _temporary_name(path):
    """A fresh hidden name next to ``path``, created empty (so no one else takes it).

    Created with mode ``0o666`` less the umask, as :func:`open` would create the target
    itself (:func:`tempfile.mkstemp` would make it private to the owner).
    """
    while True:
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:  # pragma: no cover - a 48-bit collision
            continue
        os.close(descriptor)
        return temporary


def atomic_write(path, write):
    """Write ``path`` atomically with ``write(temporary_path)``.

    Parameters
    ----------
    path : str or path-like
        The file to create or replace; its folder must exist.
    write : callable
        Called with the path of a temporary file in the same folder (a
        :class:`pathlib.Path`, the file exists and is empty) and writes the new content
        there, for instance ``lambda tmp: frame.to_csv(tmp)``. It must not keep the
        file open after it returns.

    Returns
    -------
    path : pathlib.Path
        The path written.
    """
    path = Path(path)
    temporary = _temporary_name(path)
    try:
        write(temporary)
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:  # KeyboardInterrupt too: never leave the temporary behind
        temporary.unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path, text, *, encoding="utf-8"):
    """Write the string ``text`` to ``path`` atomically; returns the path."""
    return atomic_write(path, lambda temporary: temporary.write_text(text, encoding))


def check_writable_dir(path):
    """Create folder ``path`` if needed and check that files can be created in it.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    problem : str or None
        ``None`` when ``path`` is a writable folder (now existing); otherwise what is
        wrong, in a few words, for an error message.
    """
    if not str(path).strip():
        # Path("") is the current folder: an empty --out is a slip, not a choice.
        return "empty; name a folder (for the current one, pass .)"
    path = Path(path)
    try:
        if path.exists() and not path.is_dir():
            return "exists and is not a directory"
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return f"cannot create the directory ({error.strerror or error})"
    try:
        _temporary_name(path / "write-test").unlink()
    except OSError as error:
        return f"cannot write in the directory ({error.strerror or error})"
    return None
