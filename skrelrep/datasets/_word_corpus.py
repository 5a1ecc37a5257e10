"""Tokenised sentences for training word embeddings: the English Bible or fortunes."""

import functools
import re
import shutil
import subprocess

from ._base import APT_INSTALL, check_count, choose_rows, not_installed, tokenize
from ._fortunes import load_fortunes

__all__ = ["load_word_corpus"]

DIATHEKE = "diatheke"
KJV_MODULE = re.compile(r"KJV", flags=re.IGNORECASE)  # "KJV" or "engKJV2006eb"
INSTALL = f"{APT_INSTALL} sword-text-kjv diatheke"
_VERSE = re.compile(r"^[ \t]*(\S.*?) (\d+):(\d+): (.*)$", flags=re.MULTILINE)


def _diatheke(*arguments):
    executable = shutil.which(DIATHEKE)
    if executable is None:
        raise not_installed(
            "The SWORD Bible reader", INSTALL, f"no {DIATHEKE!r} command on the PATH"
        )
    return subprocess.run(
        [executable, *arguments],
        capture_output=True,
        check=True,
        encoding="utf-8",
        errors="replace",
    ).stdout


@functools.lru_cache(maxsize=1)
def _kjv_module():
    """The name of the installed King James SWORD module."""
    modules = [
        name
        for name in _diatheke("-b", "system", "-k", "modulelistnames").split()
        if KJV_MODULE.search(name)
    ]
    if not modules:
        raise not_installed(
            "The King James Bible (SWORD module)",
            INSTALL,
            "diatheke lists no KJV module",
        )
    return modules[0]


@functools.lru_cache(maxsize=8)
def _kjv_verses(key):
    """``(reference, text)`` of the King James verses selected by a SWORD key."""
    output = _diatheke("-b", _kjv_module(), "-f", "plain", "-k", key)
    # Lines other than "Book C:V: text" are headings (psalm titles) and the module
    # name: they are not verses.
    return tuple(
        (f"{book} {chapter}:{verse}", text.strip())
        for book, chapter, verse, text in _VERSE.findall(output)
    )


def load_word_corpus(
    source="bible",
    *,
    books=None,
    topics=None,
    n_sentences=None,
    random_state=None,
    lowercase=True,
):
    """Load tokenised sentences to train word embeddings on (Word2Vec, FastText).

    Two offline sources:

    - ``"bible"``: the King James Bible, one sentence per verse (31,102 verses,
      about 790,000 words, 12,600 distinct), read with ``diatheke`` from the Debian
      SWORD module; it takes a few seconds, after which it is cached. Install with
      ``apt-get install -y --no-install-recommends sword-text-kjv diatheke``.
    - ``"fortunes"``: the English fortunes (:func:`load_fortunes`), one sentence per
      entry (about 15,000 entries and 430,000 words).

    Words are runs of letters with inner apostrophes (``"don't"``); digits and
    punctuation are dropped. Sentences left without words are dropped.

    Parameters
    ----------
    source : {"bible", "fortunes"}, default="bible"
        Which text to read.
    books : list of str, default=None
        Passages as SWORD keys: books (``"Genesis"``, ``"Ruth"``, abbreviations such
        as ``"Jn"``), chapters (``"Genesis 1"``), verses or ranges
        (``"Matthew-John"``); the whole Bible by default. Only for
        ``source="bible"``.
    topics : list of str, default=None
        Fortune topics; all by default. Only for ``source="fortunes"``.
    n_sentences : int, default=None
        Keep this many sentences; all by default.
    random_state : int, RandomState instance or None, default=None
        With ``n_sentences``: ``None`` keeps the first sentences, otherwise a random
        subset, in text order, is drawn with this seed. The result is deterministic
        either way.
    lowercase : bool, default=True
        Lower-case every word.

    Returns
    -------
    sentences : list of list of str
        The tokenised sentences, in text order (what :class:`gensim.models.Word2Vec`
        takes).

    Raises
    ------
    DataNotInstalledError
        If the source's package is missing; the message names the install command.

    Examples
    --------
    >>> from skrelrep.datasets import load_word_corpus
    >>> sentences = load_word_corpus("bible", books=["Genesis"])
    >>> sentences[0]
    ['in', 'the', 'beginning', 'god', 'created', 'the', 'heaven', 'and', 'the', 'earth']
    """
    if source not in ("bible", "fortunes"):
        raise ValueError(f"source must be 'bible' or 'fortunes'; got {source!r}.")
    check_count(n_sentences, "n_sentences")
    if source == "bible":
        if topics is not None:
            raise ValueError("topics selects fortunes; use books for the Bible.")
        if books is None:
            key = "Gen-Rev"
        else:
            books = [books] if isinstance(books, str) else list(books)
            if not books or not all(isinstance(book, str) and book for book in books):
                raise ValueError(f"books must be non-empty book names; got {books!r}.")
            key = ";".join(books)
        texts = [text for _, text in _kjv_verses(key)]
        if not texts:
            raise ValueError(f"The King James Bible has no verses for books={books!r}.")
    else:
        if books is not None:
            raise ValueError("books selects Bible books; use topics for fortunes.")
        texts = load_fortunes(topics).data
    sentences = [tokenize(text, lowercase=lowercase) for text in texts]
    sentences = [sentence for sentence in sentences if sentence]
    rows = choose_rows(len(sentences), n_sentences, random_state)
    return [sentences[row] for row in rows]
