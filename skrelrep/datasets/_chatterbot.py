"""Line-aligned translations of dialogue by topic, from ``chatterbot-corpus``."""

import importlib.util
from itertools import chain
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._base import check_count, choose_rows, finish, not_installed

__all__ = ["load_chatterbot_parallel"]

INSTALL = "pip install chatterbot-corpus==1.3.3 pyyaml"


def _corpus_root():
    """The ``data`` folder of the installed ``chatterbot_corpus`` package."""
    spec = importlib.util.find_spec("chatterbot_corpus")
    if spec is None or spec.origin is None:
        raise not_installed(
            "The chatterbot corpus", INSTALL, "no module named 'chatterbot_corpus'"
        )
    return Path(spec.origin).parent / "data"


def _utterances(path, yaml):
    """A file's conversations as lists of strings, or None if it cannot be read."""
    try:
        with open(path, encoding="utf-8") as f:
            # libyaml's loader, where PyYAML was built with it, parses ~10x faster.
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            conversations = yaml.load(f, Loader=loader)["conversations"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return None
    if not isinstance(conversations, list) or not all(
        isinstance(turns, list) for turns in conversations
    ):
        return None
    return [
        ["" if turn is None else str(turn).strip() for turn in turns]
        for turns in conversations
    ]


def load_chatterbot_parallel(
    languages=("english", "italian"),
    *,
    topics=None,
    n_samples=None,
    random_state=None,
    drop_duplicates=True,
    return_X_y=False,
    data_home=None,
):
    """Load dialogue lines aligned across languages, labelled by topic.

    The chatterbot corpus (``chatterbot-corpus`` 1.3.3, BSD) holds dialogues in
    topic files (``ai``, ``computers``, ``emotion``, ``food``, ``money``, ...) per
    language; the English, Italian, Japanese, Korean and Ukrainian files are mostly
    line-by-line translations. A topic is kept only when its file exists in every
    requested language with exactly the same conversation structure (the same number
    of conversations, each with the same number of lines); the others are listed in
    ``skipped_topics``. For English and Italian this keeps 12 of 19 shared topics,
    about 800 aligned lines. Install with::

        pip install chatterbot-corpus==1.3.3 pyyaml

    Parameters
    ----------
    languages : sequence of str, default=("english", "italian")
        Language folders of the corpus; the columns of ``data``, in this order.
    topics : list of str, default=None
        Topics (file names without ``.yml``) to keep; all aligned topics by default.
    n_samples : int, default=None
        Keep this many aligned lines; all by default.
    random_state : int, RandomState instance or None, default=None
        With ``n_samples``: ``None`` keeps the first lines, otherwise a random
        subset, in corpus order, is drawn with this seed. The result is deterministic
        either way.
    drop_duplicates : bool, default=True
        Keep only the first occurrence of each tuple of translations (the corpus
        repeats prompts such as "do you eat").
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a bunch.
    data_home : str or path-like, default=None
        The corpus ``data`` folder; by default the installed package's.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data``: :class:`pandas.DataFrame` with one column of str per language, row
        ``i`` holding the translations of one line; ``target``: int64 array, the
        index of each line's topic in ``target_names``; ``target_names``: sorted
        topics (the English file names); ``skipped_topics``: ``{topic: reason}``
        for topics left out; ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    DataNotInstalledError
        If ``chatterbot-corpus`` or ``pyyaml`` is missing; the message names the
        install command.

    Examples
    --------
    >>> from skrelrep.datasets import load_chatterbot_parallel
    >>> X, y = load_chatterbot_parallel(topics=["food"], return_X_y=True)
    >>> X.columns.tolist()
    ['english', 'italian']
    >>> X.iloc[4].tolist()
    ['Electricity is food for robots.', 'Elettricità è cibo per robots.']
    """
    check_count(n_samples, "n_samples")
    try:
        import yaml
    except ImportError as exc:
        raise not_installed("PyYAML", INSTALL, "no module named 'yaml'") from exc
    root = Path(_corpus_root() if data_home is None else data_home)
    if not root.is_dir():
        raise not_installed("The chatterbot corpus", INSTALL, f"{root} is missing")
    if isinstance(languages, str):
        languages = [languages]
    languages = list(languages)
    available = sorted(path.name for path in root.iterdir() if path.is_dir())
    unknown = [language for language in languages if language not in available]
    if unknown or not languages or len(set(languages)) != len(languages):
        raise ValueError(
            f"languages must be distinct language folders of the corpus; unknown: "
            f"{unknown}. Available: {available}."
        )
    shared = sorted(
        set.intersection(
            *({path.stem for path in (root / lang).glob("*.yml")} for lang in languages)
        )
    )
    if topics is not None:
        topics = [topics] if isinstance(topics, str) else list(topics)
        missing = [topic for topic in topics if topic not in shared]
        if missing or not topics:
            raise ValueError(
                f"topics {missing} are not in every language {languages}. Topics "
                f"shared by them: {shared}."
            )
        shared = sorted(set(topics))
    rows, labels, target_names, skipped = [], [], [], {}
    for topic in shared:
        texts = [_utterances(root / lang / f"{topic}.yml", yaml) for lang in languages]
        if any(conversations is None for conversations in texts):
            skipped[topic] = "a file cannot be read as conversations"
            continue
        shapes = {
            tuple(len(turns) for turns in conversations) for conversations in texts
        }
        if len(shapes) > 1:
            skipped[topic] = "the conversations differ in number or length"
            continue
        lines = zip(
            *(chain.from_iterable(conversations) for conversations in texts),
            strict=True,
        )
        kept = [line for line in lines if all(line)]
        if kept:
            rows.extend(kept)
            labels.extend([len(target_names)] * len(kept))
            target_names.append(topic)
    frame = pd.DataFrame(rows, columns=languages, dtype=object)
    target = np.asarray(labels, dtype=np.int64)
    if drop_duplicates:
        first = ~frame.duplicated().to_numpy()
        frame, target = frame[first], target[first]
    chosen = choose_rows(len(frame), n_samples, random_state)
    frame = frame.iloc[chosen].reset_index(drop=True)
    return finish(
        Bunch(
            data=frame,
            target=target[chosen],
            target_names=target_names,
            skipped_topics=skipped,
            DESCR=(
                f"{len(frame)} chatterbot corpus lines aligned across {languages} in "
                f"{len(target_names)} topics, read from {root}."
            ),
        ),
        return_X_y,
    )
