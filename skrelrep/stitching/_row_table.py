"""The codes of a stateless encoder, kept row by row on disk.

One folder per encoder (named by its hash) holds blocks: ``.npz`` files of two
arrays, ``keys`` (a 16-byte digest per row, see ``row_keys``) and ``codes`` (one
row of codes per key), plus ``owner``, the folder's name. A block is written once,
atomically, under a fresh name, and never changed: each call that meets rows not yet
stored encodes them and adds one block.

The keys of a block are read once per process and kept in memory (16 bytes a row);
a call lists the folder, reads the keys of blocks it has not seen, and then the codes
of only the blocks that hold the rows it asks for. So the cost of a call grows with
the rows it asks for and with the number of blocks (one name each), not with the
size of everything stored.

A block that cannot be read (truncated, empty, not an archive of these arrays, codes
that do not fit the keys or the encoder's other codes, another folder's block) is
removed with a warning and its rows are encoded again, as joblib does with a corrupt
entry. A folder that cannot be written (a read-only mount) is read as far as it
goes; the rows it lacks are encoded and returned, with a warning, and not stored.
"""

import uuid

import numpy as np

from ..utils._array_api import take_rows
from ..utils._atomic import atomic_write
from ..utils._warnings import warn

__all__ = ["RowTable"]

# Written in an encoder's folder when its codes are not a 2-D NumPy array.
PER_ARRAY = "per-array"
_KEY_BYTES = 16
# The keys of every block read by this process, by path: blocks never change.
_KEYS = {}
# Per folder: the blocks whose keys are in the table, and the table.
_LOCATED = {}
# Blocks found corrupt that could not be removed: skipped without a new warning.
_SKIPPED = set()


class _Corrupt(Exception):
    """A block that cannot be used, and why."""


class RowTable:
    """The stored codes of one encoder: its folder of blocks.

    Parameters
    ----------
    folder : pathlib.Path
        The encoder's folder (it need not exist yet).
    """

    def __init__(self, folder):
        self.folder = folder
        self.owner = folder.name

    def codes(self, encoder, X, keys):
        """The codes of the rows of ``X`` (digests ``keys``), or None.

        Rows not stored are encoded by ``encoder`` (each distinct row once) and
        stored. None means that this encoder's codes cannot be kept by row (they are
        not a 2-D NumPy array): the caller caches them per input array instead.
        """
        if (self.folder / PER_ARRAY).exists():
            return None
        located = self._locate()
        place = [located.get(key.tobytes()) for key in keys]
        blocks = self._read_codes({where[0] for where in place if where is not None})
        for position, where in enumerate(place):
            if where is not None and where[0] not in blocks:
                place[position] = None  # its block was corrupt or vanished
        reference = _common_layout(blocks.values())
        if reference is None:  # blocks of different widths or dtypes: none trusted
            self._discard(blocks, "its codes do not match the encoder's other codes")
            place, blocks = [None] * len(keys), {}
        new = self._encode_missing(encoder, X, keys, place, blocks)
        if new is None:
            return None
        if new is not False:
            width, dtype = new
            wrong = {
                path: block
                for path, block in blocks.items()
                if (block.shape[1], block.dtype) != (width, dtype)
            }
            if wrong:
                self._discard(wrong, "its codes do not match the encoder's new codes")
                for path in wrong:
                    del blocks[path]
                for position, where in enumerate(place):
                    if where is not None and where[0] in wrong:
                        place[position] = None
                if self._encode_missing(encoder, X, keys, place, blocks) is None:
                    return None
        return _gather(place, blocks)

    def _locate(self):
        """``{key bytes: (block path, row)}`` over the readable blocks.

        Kept per folder between calls: only blocks not seen before are read, and
        the table is rebuilt (from the keys in memory) only when a block went away.
        """
        try:
            paths = list(self.folder.glob("*.npz"))
        except OSError:
            return {}
        seen, located = _LOCATED.get(self.folder, (set(), {}))
        present = set(paths)
        if not seen <= present:  # a block was removed: rebuild from what is left
            for path in seen - present:
                _KEYS.pop(path, None)
            seen, located = set(), {}
        for path in paths:
            if path in seen or path in _SKIPPED:
                continue
            keys = _KEYS.get(path)
            if keys is None:
                try:
                    keys = _KEYS[path] = self._read_keys(path)
                except FileNotFoundError:
                    continue
                except _Corrupt as error:
                    self._remove(path, str(error))
                    continue
            seen.add(path)
            for row, key in enumerate(keys):
                located.setdefault(key.tobytes(), (path, row))
        _LOCATED[self.folder] = seen, located
        return located

    def _read_keys(self, path):
        try:
            with open(path, "rb") as handle, np.load(handle) as stored:
                keys = stored["keys"]
                owner = str(stored["owner"]) if "owner" in stored.files else None
        except FileNotFoundError:
            raise
        except Exception as error:  # any damage to the file: the entry is unusable
            raise _Corrupt(f"{type(error).__name__}: {error}") from None
        if keys.dtype != np.uint8 or keys.ndim != 2 or keys.shape[1] != _KEY_BYTES:
            raise _Corrupt(f"its keys are {keys.dtype} of shape {keys.shape}")
        if owner is not None and owner != self.owner:
            raise _Corrupt("it belongs to another encoder's folder")
        return keys

    def _read_codes(self, paths):
        """``{path: codes}`` of the blocks that can be read; the others are removed."""
        blocks = {}
        for path in paths:
            try:
                # Opened here, so that it is closed however np.load fails.
                with open(path, "rb") as handle, np.load(handle) as stored:
                    codes = stored["codes"]
            except FileNotFoundError:
                continue
            except Exception as error:  # any damage to the file: the entry is unusable
                self._remove(path, f"{type(error).__name__}: {error}")
                continue
            n_keys = len(_KEYS[path])
            if codes.ndim != 2 or codes.shape[0] != n_keys:
                self._remove(path, f"{n_keys} keys but codes of shape {codes.shape}")
                continue
            blocks[path] = codes
        return blocks

    def _encode_missing(self, encoder, X, keys, place, blocks):
        """Encode and store the rows whose ``place`` is None; record where they are.

        Returns the new codes' (width, dtype), False when nothing was missing, or
        None when the codes are not a 2-D NumPy array.
        """
        missing = {}  # first row of each key not found
        for row, (key, where) in enumerate(zip(keys, place, strict=True)):
            if where is None:
                missing.setdefault(key.tobytes(), row)
        if not missing:
            return False
        rows = np.fromiter(missing.values(), dtype=np.intp, count=len(missing))
        new = encoder.transform(take_rows(X, rows))
        if not (isinstance(new, np.ndarray) and new.ndim == 2):
            self._write(lambda: (self.folder / PER_ARRAY).touch())
            return None
        path = self.folder / f"{uuid.uuid4().hex}.npz"
        blocks[path] = new
        for row, key in enumerate(missing):
            missing[key] = (path, row)
        for position, key in enumerate(keys):
            if place[position] is None:
                place[position] = missing[key.tobytes()]
        if self._write(lambda: atomic_write(path, self._saver(keys[rows], new))):
            _KEYS[path] = keys[rows]  # read into the table by the next call
        return new.shape[1], new.dtype

    def _saver(self, keys, codes):
        def save(path):
            with open(path, "wb") as handle:
                np.savez(handle, keys=keys, codes=codes, owner=np.str_(self.owner))

        return save

    def _write(self, write):
        """Run ``write`` in the folder; a folder that cannot be written only warns."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write()
            return True
        except OSError as error:
            warn(
                f"The encoder's row cache in {self.folder} cannot be written "
                f"({error.strerror or error}): the codes are computed and returned "
                "but not stored. Give StitchedPipeline a writable memory folder to "
                "cache them."
            )
            return False

    def _discard(self, blocks, reason):
        for path in list(blocks):
            self._remove(path, reason)

    def _remove(self, path, reason):
        """Warn about a corrupt block and remove it (or skip it if it cannot be)."""
        _KEYS.pop(path, None)
        _LOCATED.pop(path.parent, None)
        try:
            path.unlink(missing_ok=True)
            outcome = "removed; its rows are encoded again"
        except OSError as error:
            _SKIPPED.add(path)
            outcome = f"skipped, since it cannot be removed ({error.strerror})"
        warn(
            f"A corrupt entry of the encoder's row cache, {path} ({reason}), was "
            f"{outcome}."
        )


def _common_layout(blocks):
    """The (width, dtype) shared by ``blocks``; None if they disagree."""
    layouts = {(block.shape[1], block.dtype) for block in blocks}
    if len(layouts) > 1:
        return None
    return next(iter(layouts), (0, None))


def _gather(place, blocks):
    """The rows ``place`` (``(path, row)`` each) taken from ``blocks``, in order."""
    first = next(iter(blocks.values()))
    codes = np.empty((len(place), first.shape[1]), dtype=first.dtype)
    by_block = {}
    for position, (path, row) in enumerate(place):
        by_block.setdefault(path, ([], []))
        by_block[path][0].append(position)
        by_block[path][1].append(row)
    for path, (positions, rows) in by_block.items():
        codes[positions] = blocks[path][rows]
    return codes
