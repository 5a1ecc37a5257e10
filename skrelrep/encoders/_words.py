"""Word2Vec and FastText word encoders, trained by gensim on a tokenised corpus.

Unlike the other encoders these learn in ``fit``: the paper's word experiment trains
both on one corpus, so that they share a vocabulary but not a latent space.
"""

import importlib
import numbers

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..utils._compat import Interval, StrOptions, _fit_context
from ..utils._docstrings import fill_doc
from ..utils._progress import progress_bar, progress_wanted
from ._base import COMMON_CONSTRAINTS, PARAMETER_DOCS, import_optional
from ._ngrams import ngram_buckets, subword_vectors
from ._text import check_texts

__all__ = ["FastTextEncoder", "Word2VecEncoder"]

# The parameters both word encoders share, written once (see utils/_docstrings.py);
# ``verbose`` is the frozen encoders' own entry.
_WORD_DOCS = {
    "verbose": PARAMETER_DOCS["verbose"],
    "vector_size": """vector_size : int, default=$default
    Dimension of the word vectors.""",
    "window": """window : int, default=$default
    Largest distance between a word and the context words it predicts.""",
    "min_count": """min_count : int, default=$default
    Words rarer than this in the corpus are left out of the vocabulary.""",
    "sg": """sg : bool, default=$default
    Skip-gram (predict the context from the word) instead of CBOW (the word from
    its context).""",
    "negative": """negative : int, default=$default
    Noise words drawn per positive example (negative sampling).""",
    "sample": """sample : float, default=$default
    Frequent words are randomly down-sampled above this relative frequency; 0 keeps
    every occurrence.""",
    "epochs": """epochs : int, default=$default
    Passes over the corpus.""",
    "n_jobs": """n_jobs : int, default=$default
    Training threads. Only ``n_jobs=1`` is reproducible: several threads share the
    updates in an order that varies from run to run.""",
    "random_state": """random_state : int, RandomState instance or None, default=$default
    Seeds the initial vectors, negative sampling and down-sampling. An int with
    ``n_jobs=1`` gives the same vectors in every run, whatever ``PYTHONHASHSEED``.""",
}


class _WordEncoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Common fit/transform of the gensim word encoders."""

    _parameter_constraints: dict = {
        "vector_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "window": [Interval(numbers.Integral, 1, None, closed="left")],
        "min_count": [Interval(numbers.Integral, 1, None, closed="left")],
        "sg": ["boolean"],
        "negative": [Interval(numbers.Integral, 1, None, closed="left")],
        "sample": [Interval(numbers.Real, 0, 1, closed="left")],
        "epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_jobs": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": COMMON_CONSTRAINTS["verbose"],
    }

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train word vectors on a corpus.

        Parameters
        ----------
        X : iterable of sentences
            The corpus. Each sentence is a list (or tuple, or 1-D array) of str tokens,
            or a str, split on whitespace.

        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted encoder.
        """
        sentences = _check_corpus(X, owner=type(self).__name__)
        gensim_models = import_optional(
            "gensim.models", extra="words", owner=type(self).__name__
        )
        self._check_extra_params()
        seed = int(
            check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        )
        model = getattr(gensim_models, self._gensim_class)(
            vector_size=self.vector_size,
            window=self.window,
            min_count=self.min_count,
            sg=int(self.sg),
            negative=self.negative,
            sample=self.sample,
            epochs=self.epochs,
            workers=self.n_jobs,
            seed=seed,
            **self._gensim_params(),
        )
        model.build_vocab(sentences)
        if len(model.wv) == 0:
            raise ValueError(
                f"No word occurs at least min_count={self.min_count} times in the "
                f"corpus of {len(sentences)} sentences: the vocabulary is empty."
            )
        model.train(
            sentences,
            total_examples=model.corpus_count,
            epochs=model.epochs,
            callbacks=_epoch_bar(self.epochs, self.verbose),
        )
        # Keep the vectors only, not the training state (output weights, tables).
        self._store_vectors(model.wv)
        self.vocabulary_ = dict(model.wv.key_to_index)
        return self

    def transform(self, X):
        """Look up the vector of each word.

        Parameters
        ----------
        X : array-like of str of shape (n_words,)
            Words (one token each), e.g. a list or a 1-D array.

        Returns
        -------
        X_new : ndarray of shape (n_words, vector_size), dtype float32
            Row ``i`` is the vector of ``X[i]``; unknown words follow
            ``handle_unknown``.
        """
        check_is_fitted(self)
        words = check_texts(X, owner=type(self).__name__)
        rows = np.fromiter(
            (self.vocabulary_.get(word, -1) for word in words),
            dtype=np.int64,
            count=len(words),
        )
        unknown = rows < 0
        out = self.vectors_[np.where(unknown, 0, rows)].astype(np.float32)
        if unknown.any():
            self._fill_unknown(
                out, [w for w, u in zip(words, unknown, strict=True) if u], unknown
            )
        return out

    def _fill_unknown(self, out, words, unknown):
        if self.handle_unknown == "error":
            examples = ", ".join(repr(w) for w in words[:5])
            raise ValueError(
                f"{len(words)} of {len(unknown)} words are not in the vocabulary "
                f"(e.g. {examples}). Pass handle_unknown='zero' to map them to zero "
                "vectors"
                + (
                    ", or 'subword' to build them from character n-grams"
                    if "subword" in self._unknown_options
                    else ""
                )
                + "."
            )
        if self.handle_unknown == "zero":
            out[unknown] = 0.0
            return
        # "subword". A word with no character n-gram of min_n to max_n characters
        # (the empty string, or words shorter than min_n - 2 characters with the
        # framing "<" and ">") cannot be built: gensim would return the origin.
        min_n, max_n = self.ngram_range_
        n_buckets = self.ngram_vectors_.shape[0]
        buckets = [ngram_buckets(w, min_n, max_n, n_buckets) for w in words]
        bare = [w for w, b in zip(words, buckets, strict=True) if not b]
        if bare:
            examples = ", ".join(repr(w) for w in bare[:5])
            raise ValueError(
                f"{len(bare)} of {len(unknown)} words are not in the vocabulary and "
                f"have no character n-grams of {min_n} to {max_n} characters "
                f"to build them from (e.g. {examples}). Pass handle_unknown='zero' "
                "to map unknown words to zero vectors."
            )
        out[unknown] = subword_vectors(buckets, self.ngram_vectors_)

    def _store_vectors(self, wv):
        self.vectors_ = wv.vectors

    def _check_extra_params(self):
        pass

    def _gensim_params(self):
        return {}

    @property
    def _n_features_out(self):
        return self.vectors_.shape[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []
        return tags


@fill_doc(_WORD_DOCS)
class Word2VecEncoder(_WordEncoder):
    """Word vectors learnt by Word2Vec (gensim) on a corpus; words in, vectors out.

    ``fit`` trains Word2Vec [1]_ on a corpus of tokenised sentences; ``transform`` maps
    a list of words to their vectors. After ``fit`` the encoder holds plain NumPy
    arrays: it pickles and transforms without gensim.

    Parameters
    ----------
    {{vector_size}}

    {{window}}

    {{min_count}}

    {{sg}}

    {{negative}}

    {{sample}}

    {{epochs}}

    handle_unknown : {"error", "zero"}, default="error"
        What ``transform`` does with a word outside the vocabulary: raise a
        ``ValueError`` naming some of them, or return a zero vector.

    {{n_jobs}}

    {{random_state}}

    {{verbose}}

    Attributes
    ----------
    vocabulary_ : dict
        Maps each vocabulary word to its row in ``vectors_`` (most frequent first).

    vectors_ : ndarray of shape (n_words, vector_size), dtype float32
        The word vectors.

    See Also
    --------
    FastTextEncoder : Word vectors built from character n-grams, defined for any word.

    Notes
    -----
    Install with ``pip install "skrelrep[words]"`` (no torch needed).

    References
    ----------
    .. [1] T. Mikolov, I. Sutskever, K. Chen, G. Corrado and J. Dean, "Distributed
       Representations of Words and Phrases and their Compositionality", NeurIPS
       2013. https://arxiv.org/abs/1310.4546

    Examples
    --------
    >>> from skrelrep.encoders import Word2VecEncoder
    >>> corpus = [["the", "cat", "sat"], ["the", "dog", "sat"]] * 50
    >>> encoder = Word2VecEncoder(vector_size=16, min_count=1, random_state=0)
    >>> V = encoder.fit(corpus).transform(["cat", "dog"])
    >>> V.shape, V.dtype
    ((2, 16), dtype('float32'))
    >>> sorted(encoder.vocabulary_)
    ['cat', 'dog', 'sat', 'the']
    """

    _gensim_class = "Word2Vec"
    _unknown_options = ("error", "zero")
    _parameter_constraints: dict = {
        **_WordEncoder._parameter_constraints,
        "handle_unknown": [StrOptions(set(_unknown_options))],
    }

    def __init__(
        self,
        vector_size=100,
        *,
        window=5,
        min_count=5,
        sg=False,
        negative=5,
        sample=1e-3,
        epochs=5,
        handle_unknown="error",
        n_jobs=1,
        random_state=None,
        verbose=None,
    ):
        self.vector_size = vector_size
        self.window = window
        self.min_count = min_count
        self.sg = sg
        self.negative = negative
        self.sample = sample
        self.epochs = epochs
        self.handle_unknown = handle_unknown
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose


@fill_doc(_WORD_DOCS)
class FastTextEncoder(_WordEncoder):
    """Word vectors learnt by FastText (gensim) on a corpus; any word gets one.

    ``fit`` trains FastText [1]_ on a corpus of tokenised sentences: a word's vector is
    the sum of its own vector and those of its character n-grams, so ``transform`` can
    build a vector for a word never seen in training from the n-grams it shares with
    the corpus. After ``fit`` the encoder holds plain NumPy arrays: it pickles, loads
    from skops trusting only its own type, and transforms without gensim.

    Parameters
    ----------
    {{vector_size}}

    {{window}}

    {{min_count}}

    {{sg}}

    {{negative}}

    {{sample}}

    {{epochs}}

    min_n, max_n : int, default=3, 6
        Shortest and longest character n-grams (of the word framed by ``<`` and
        ``>``).

    bucket : int, default=2_000_000
        Hash buckets the n-grams share. Memory is ``bucket * vector_size`` floats
        (800 MB at the defaults): lower it for small corpora.

    handle_unknown : {"subword", "error", "zero"}, default="subword"
        What ``transform`` does with a word outside the vocabulary: build it from its
        n-grams (a word too short to have any raises a ``ValueError``), raise a
        ``ValueError``, or return a zero vector.

    {{n_jobs}}

    {{random_state}}

    {{verbose}}

    Attributes
    ----------
    vocabulary_ : dict
        Maps each vocabulary word to its row in ``vectors_`` (most frequent first).

    vectors_ : ndarray of shape (n_words, vector_size), dtype float32
        The vectors of the vocabulary words (their n-grams included).

    ngram_vectors_ : ndarray of shape (bucket, vector_size), dtype float32
        The vectors of the n-gram hash buckets, from which an unseen word's vector
        is built: the mean of those of its n-grams, as gensim computes it.

    ngram_range_ : tuple of int
        ``(min_n, max_n)`` of the fit.

    See Also
    --------
    Word2VecEncoder : Word vectors for vocabulary words only.

    Notes
    -----
    Install with ``pip install "skrelrep[words]"`` (no torch needed).

    References
    ----------
    .. [1] P. Bojanowski, E. Grave, A. Joulin and T. Mikolov, "Enriching Word Vectors
       with Subword Information", TACL 2017. https://arxiv.org/abs/1607.04606

    Examples
    --------
    >>> from skrelrep.encoders import FastTextEncoder
    >>> corpus = [["the", "cat", "sat"], ["the", "cats", "sat"]] * 50
    >>> encoder = FastTextEncoder(vector_size=16, min_count=1, bucket=1000,
    ...                           random_state=0)
    >>> V = encoder.fit(corpus).transform(["cat", "catz"])  # "catz" is unseen
    >>> V.shape, V.dtype
    ((2, 16), dtype('float32'))
    """

    _gensim_class = "FastText"
    _unknown_options = ("subword", "error", "zero")
    _parameter_constraints: dict = {
        **_WordEncoder._parameter_constraints,
        "min_n": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_n": [Interval(numbers.Integral, 1, None, closed="left")],
        "bucket": [Interval(numbers.Integral, 1, None, closed="left")],
        "handle_unknown": [StrOptions(set(_unknown_options))],
    }

    def __init__(
        self,
        vector_size=100,
        *,
        window=5,
        min_count=5,
        sg=False,
        negative=5,
        sample=1e-3,
        epochs=5,
        min_n=3,
        max_n=6,
        bucket=2_000_000,
        handle_unknown="subword",
        n_jobs=1,
        random_state=None,
        verbose=None,
    ):
        self.vector_size = vector_size
        self.window = window
        self.min_count = min_count
        self.sg = sg
        self.negative = negative
        self.sample = sample
        self.epochs = epochs
        self.min_n = min_n
        self.max_n = max_n
        self.bucket = bucket
        self.handle_unknown = handle_unknown
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _check_extra_params(self):
        if self.max_n < self.min_n:
            raise ValueError(f"max_n={self.max_n} must be at least min_n={self.min_n}.")

    def _gensim_params(self):
        return {"min_n": self.min_n, "max_n": self.max_n, "bucket": self.bucket}

    def _store_vectors(self, wv):
        # What unseen words need, as arrays and plain values (no gensim type).
        self.vectors_ = wv.vectors
        self.ngram_vectors_ = wv.vectors_ngrams
        self.ngram_range_ = (int(wv.min_n), int(wv.max_n))


def _check_corpus(X, *, owner):
    """The corpus as a list of lists of str tokens, or a clear error."""
    if isinstance(X, str | bytes):
        raise TypeError(
            f"{owner}.fit expects a corpus (a list of sentences), got a single "
            f"{type(X).__name__}."
        )
    try:
        sentences = list(X)
    except TypeError:
        raise TypeError(
            f"{owner}.fit expects a corpus (a list of sentences), got "
            f"{type(X).__name__}."
        ) from None
    corpus = []
    for i, sentence in enumerate(sentences):
        if isinstance(sentence, str):
            corpus.append(sentence.split())
            continue
        try:
            tokens = list(sentence)
        except TypeError:
            raise TypeError(
                f"{owner}.fit expects each sentence to be a list of str tokens or a "
                f"str; sentence {i} is {type(sentence).__name__}."
            ) from None
        if not all(isinstance(token, str) for token in tokens):
            raise TypeError(
                f"{owner}.fit expects str tokens; sentence {i} holds "
                f"{sorted({type(t).__name__ for t in tokens if not isinstance(t, str)})}."
            )
        corpus.append([str(token) for token in tokens])
    if not any(corpus):
        raise ValueError(f"{owner}.fit got an empty corpus.")
    return corpus


def _epoch_bar(epochs, verbose):
    """Gensim callbacks that advance a progress bar once per epoch, if one is wanted."""
    if not progress_wanted(verbose):
        return ()
    callbacks = importlib.import_module("gensim.models.callbacks")

    class EpochBar(callbacks.CallbackAny2Vec):
        def on_train_begin(self, model):
            self.bar = progress_bar(
                total=epochs, description="epochs", unit="epoch", enabled=True
            )

        def on_epoch_end(self, model):
            self.bar.update(1)

        def on_train_end(self, model):
            self.bar.close()

    return [EpochBar()]
