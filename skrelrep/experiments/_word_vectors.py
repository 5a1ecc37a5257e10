"""The two word encoders of the word experiment, and the vocabulary they share.

Word2Vec and FastText trained on one corpus with the same settings (different seeds,
as independently trained models have), and the words both know, filtered as in the
paper's notebook.
"""

__all__ = ["shared_vocabulary", "train_word_encoders"]


def train_word_encoders(
    sentences,
    *,
    vector_size=100,
    sg=True,
    min_count=5,
    epochs=15,
    bucket=200_000,
    random_state=0,
    show_progress=None,
):
    """Word2Vec and FastText trained on the same corpus, with the same settings.

    Parameters
    ----------
    sentences : list of list of str
        The tokenised corpus.
    vector_size : int, default=100
    sg : bool, default=True
        Skip-gram, which learns rare words better than CBOW on a small corpus.
    min_count : int, default=5
    epochs : int, default=15
        More passes than gensim's default 5: the corpus is small.
    bucket : int, default=200_000
        FastText's n-gram hash buckets (memory is ``bucket * vector_size`` floats).
    random_state : int, default=0
        Seeds FastText; Word2Vec gets ``random_state + 1`` (training is
        single-threaded, hence reproducible).
    show_progress : bool or None, default=None
        Progress bars: ``None`` shows them where a person is watching (a terminal or
        a notebook, not CI), ``True`` forces them, ``False`` hides them.

    Returns
    -------
    encoders : dict of str to fitted encoder
        ``{"FT": FastTextEncoder, "W2V": Word2VecEncoder}``.
    """
    from ..encoders import FastTextEncoder, Word2VecEncoder

    common = dict(
        vector_size=vector_size,
        sg=sg,
        min_count=min_count,
        epochs=epochs,
        verbose=show_progress,
    )
    # Different seeds: gensim draws each word's initial vector from the seed, and
    # with one seed both models would start from the same vectors (an alignment
    # that independently trained models do not have).
    return {
        "FT": FastTextEncoder(bucket=bucket, random_state=random_state, **common).fit(
            sentences
        ),
        "W2V": Word2VecEncoder(random_state=random_state + 1, **common).fit(sentences),
    }


def shared_vocabulary(
    encoders,
    counts=None,
    *,
    min_frequency=1,
    skip_most_frequent=100,
    min_length=4,
    max_words=20_000,
):
    """Words every encoder knows, most frequent first, stop words left out.

    As in the paper's notebook: the most frequent words (mostly stop words) are
    skipped, then alphabetic words of at least ``min_length`` letters are kept, up
    to ``max_words``.

    Parameters
    ----------
    encoders : dict of str to fitted word encoder
        Each with a ``vocabulary_`` ordered from the most frequent word.
    counts : mapping of str to int, default=None
        Occurrences of each word in the corpus, for ``min_frequency``.
    min_frequency : int, default=1
        Keep only words seen at least this many times (needs ``counts``).
    skip_most_frequent : int, default=100
    min_length : int, default=4
    max_words : int, default=20_000

    Returns
    -------
    words : list of str
    """
    if min_frequency > 1 and counts is None:
        raise ValueError("min_frequency needs the corpus counts.")
    vocabularies = [encoder.vocabulary_ for encoder in encoders.values()]
    first = min(vocabularies, key=len)
    ranked = sorted(first, key=first.get)[skip_most_frequent:]
    words = [
        word
        for word in ranked
        if word.isalpha()
        and len(word) >= min_length
        and (counts is None or counts.get(word, 0) >= min_frequency)
        and all(word in vocabulary for vocabulary in vocabularies)
    ]
    return words[:max_words]
