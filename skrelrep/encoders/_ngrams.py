"""FastText's character n-grams and their hash buckets, computed without gensim.

A word outside a FastText vocabulary gets the mean of the vectors of its n-grams'
buckets (Bojanowski et al., 2017). The n-grams are the runs of ``min_n`` to ``max_n``
characters of the word framed by ``<`` and ``>`` (the frame alone, a one-character
run at either end, is no n-gram), taken on the word's UTF-8 bytes without splitting a
character. Each n-gram is hashed by 32-bit FNV-1a over its bytes read as signed
chars, as fastText's C++ code and gensim do, and falls in the bucket ``hash %
n_buckets``. The vectors are summed in float32 in the order of the n-grams and
divided by their number, as gensim does: the same vector, bit for bit (tested
against gensim).
"""

import numpy as np

__all__ = ["ngram_buckets", "subword_vectors"]

_FNV_OFFSET = 2166136261
_FNV_PRIME = 16777619
_UINT32 = 0xFFFFFFFF
# A byte above 127 read as a signed char, then as a 32-bit unsigned integer.
_SIGN_EXTENSION = 0xFFFFFF00
# Words whose n-gram vectors are gathered at once in subword_vectors.
_WORDS_PER_CHUNK = 1024


def _hash(ngram):
    """FNV-1a (32 bits) of ``ngram``'s bytes, each read as a signed char."""
    value = _FNV_OFFSET
    for byte in ngram:
        value ^= byte | _SIGN_EXTENSION if byte > 127 else byte
        value = (value * _FNV_PRIME) & _UINT32
    return value


def ngram_buckets(word, min_n, max_n, n_buckets):
    """The bucket of each character n-gram of ``word``, in fastText's order: by
    first character, then by length."""
    data = f"<{word}>".encode()
    # Where each character starts: continuation bytes of UTF-8 are 10xxxxxx.
    starts = [i for i, byte in enumerate(data) if byte & 0xC0 != 0x80]
    n_chars = len(starts)
    starts.append(len(data))
    buckets = []
    for first in range(n_chars):
        for length in range(min_n, min(max_n, n_chars - first) + 1):
            if length == 1 and first in (0, n_chars - 1):
                continue  # "<" or ">" alone
            ngram = data[starts[first] : starts[first + length]]
            buckets.append(_hash(ngram) % n_buckets)
    return buckets


def subword_vectors(buckets, ngram_vectors):
    """For each list of ``buckets`` (none empty), the mean of those rows of
    ``ngram_vectors``, summed in float32 in the order given."""
    n_words, width = len(buckets), ngram_vectors.shape[1]
    out = np.zeros((n_words, width), dtype=np.float32)
    for start in range(0, n_words, _WORDS_PER_CHUNK):
        chunk = buckets[start : start + _WORDS_PER_CHUNK]
        counts = np.array([len(b) for b in chunk])
        rows = np.repeat(np.arange(start, start + len(chunk)), counts)
        # Unbuffered and in order: each word's sum is accumulated n-gram by n-gram.
        np.add.at(out, rows, ngram_vectors[np.concatenate(chunk)])
        out[start : start + len(chunk)] /= counts.astype(np.float32)[:, None]
    return out
