"""Quotations by topic from the Debian ``fortunes`` packages."""

import re
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch, check_random_state

from ._base import APT_INSTALL, check_count, choose_rows, finish, not_installed

__all__ = ["load_fortunes", "read_fortunes"]

DATA_HOME = Path("/usr/share/games/fortunes")
_PACKAGES = {"en": "fortunes"}  # other languages: fortunes-<language>
_INDEX_SUFFIXES = {".dat", ".u8"}  # strfile indexes and UTF-8 aliases (symlinks)
_SEPARATOR = re.compile(r"^%[ \t\r]*$", flags=re.MULTILINE)
_OVERSTRIKE = re.compile(".\x08")  # "_\bx" underlines or bolds a character on a tty


def _install(language):
    return f"{APT_INSTALL} {_PACKAGES.get(language, f'fortunes-{language}')}"


def _topic_files(folder, language):
    """``{topic: path}`` for the fortune files of one language folder."""
    if not folder.is_dir():
        raise not_installed(
            f"The {language!r} fortunes", _install(language), f"{folder} is missing"
        )
    # Subfolders (the offensive "off" collections, other languages) are not read, nor
    # symbolic links: the language packages link their files into the English folder.
    files = {
        path.name.removesuffix(".fortunes"): path
        for path in sorted(folder.iterdir())
        if path.is_file()
        and not path.is_symlink()
        and path.suffix not in _INDEX_SUFFIXES
    }
    if not files:
        raise not_installed(
            f"The {language!r} fortunes",
            _install(language),
            f"{folder} holds no fortune files",
        )
    return files


def read_fortunes(path):
    """The entries of one fortune file: text between lines holding only ``%``.

    Overstrike sequences (a character, a backspace, another character) keep the
    last character; entries are stripped and empty ones dropped.
    """
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    entries = (entry.strip() for entry in _SEPARATOR.split(_OVERSTRIKE.sub("", text)))
    return [entry for entry in entries if entry]


def load_fortunes(
    topics=None,
    *,
    n_per_topic=None,
    random_state=None,
    language="en",
    max_chars=None,
    return_X_y=False,
    data_home=None,
):
    """Load quotations labelled by topic (the fortune cookie files).

    Each topic file of the Debian ``fortunes`` package (English: about 15,000
    entries in 43 files such as ``computers``, ``food``, ``law``, ``love``,
    ``science``, ``sports``) holds entries separated by lines holding only ``%``.
    ``fortunes-de``, ``fortunes-es`` and ``fortunes-it`` add German, Spanish and
    Italian topics (not translations of the English ones). The offensive collections
    (in ``off/`` subfolders) are never read. Install with::

        apt-get install -y --no-install-recommends fortunes

    Parameters
    ----------
    topics : list of str, default=None
        Topics (file names, without a ``.fortunes`` suffix) to load, in this order;
        all topics of the language, sorted, by default.
    n_per_topic : int, default=None
        Keep at most this many entries of each topic; all by default. Topics with
        fewer entries keep all of theirs.
    random_state : int, RandomState instance or None, default=None
        With ``n_per_topic``: ``None`` keeps each topic's first entries, otherwise a
        random subset per topic, in file order, is drawn with this seed. The result
        is deterministic either way.
    language : str, default="en"
        ``"en"`` for the ``fortunes`` package, or the language folder of a
        ``fortunes-<language>`` package (``"de"``, ``"es"``, ``"it"``).
    max_chars : int, default=None
        Drop entries longer than this many characters (long stories and ASCII art)
        before subsampling.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a bunch.
    data_home : str or path-like, default=None
        The fortunes folder; by default ``/usr/share/games/fortunes``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data``: list of str, the entries (topic by topic, in file order);
        ``target``: int64 array, the index of each entry's topic in
        ``target_names``; ``target_names``: list of topics; ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    DataNotInstalledError
        If the language's package is missing; the message names the install command.

    Examples
    --------
    >>> from skrelrep.datasets import load_fortunes
    >>> texts, y = load_fortunes(["food", "sports"], n_per_topic=20,
    ...                          random_state=0, return_X_y=True)
    >>> len(texts), sorted(set(y.tolist()))
    (40, [0, 1])
    """
    check_count(n_per_topic, "n_per_topic")
    check_count(max_chars, "max_chars")
    if not isinstance(language, str) or not language.isalpha():
        raise ValueError(
            f"language must be a language code such as 'en'; got {language!r}."
        )
    root = Path(DATA_HOME if data_home is None else data_home)
    files = _topic_files(root if language == "en" else root / language, language)
    if topics is None:
        topics = list(files)
    else:
        topics = [topics] if isinstance(topics, str) else list(topics)
        unknown = [topic for topic in topics if topic not in files]
        if unknown or not topics or len(set(topics)) != len(topics):
            raise ValueError(
                f"topics must be distinct topics of the {language!r} fortunes; unknown: "
                f"{unknown}. Available: {sorted(files)}."
            )
    rng = None if random_state is None else check_random_state(random_state)
    texts, target = [], []
    for label, topic in enumerate(topics):
        entries = read_fortunes(files[topic])
        if max_chars is not None:
            entries = [entry for entry in entries if len(entry) <= max_chars]
        rows = choose_rows(len(entries), n_per_topic, rng)
        texts.extend(entries[row] for row in rows)
        target.extend([label] * len(rows))
    return finish(
        Bunch(
            data=texts,
            target=np.asarray(target, dtype=np.int64),
            target_names=topics,
            DESCR=(
                f"{len(texts)} fortunes ({language}) in {len(topics)} topics, read "
                f"from {files[topics[0]].parent}."
            ),
        ),
        return_X_y,
    )
