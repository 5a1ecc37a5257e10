"""skrelrep.encoders on hostile inputs: an embedding or a clear error, each case.

The pretrained models load once per module (the encoders share a process-wide
cache) and every test embeds a handful of items. The table is shown in the user
guide (:ref:`hostile_inputs`); ``tests/hostile.py`` describes the format.
"""

import copy

import numpy as np
import pandas as pd
import pytest
import torch
from hostile import case, check_every_case_is_tested
from sklearn.exceptions import NotFittedError

from skrelrep.encoders import (
    E5SmallEncoder,
    EfficientNetLiteEncoder,
    FastTextEncoder,
    MiniLML3Encoder,
    MiniLML6Encoder,
    Word2VecEncoder,
)

CASES = [
    (
        "empty-input",
        "an empty list of texts or words, no images, an empty corpus",
        "ValueError saying the input is empty",
    ),
    (
        "single-string",
        "one str instead of a list (text encoders, word lookup, word corpus)",
        "TypeError asking to wrap it in a list (it is never read as a list of "
        "characters)",
    ),
    (
        "non-string-items",
        "numbers, None, bytes, or a missing value (NaN) from a pandas column among "
        "the texts or words",
        "TypeError naming the first bad item's position and type",
    ),
    (
        "string-arrays",
        "a 2-D array of strings",
        "one column is read as a column of texts (what a ColumnTransformer passes); "
        "more columns: ValueError with the shape",
    ),
    (
        "long-texts",
        "texts longer than the model's limit",
        "MiniLML6Encoder and MiniLML3Encoder keep the first max_length word pieces "
        "(256 and 128 by default); E5SmallEncoder truncates nothing: it averages "
        "windows of 510 tokens (each as documented in its class)",
    ),
    (
        "empty-texts",
        "empty or whitespace-only strings",
        "a finite unit vector, the model's embedding of no words: one and the same "
        "for every such text (not an error)",
    ),
    (
        "invalid-unicode",
        "a text holding a lone surrogate (bytes decoded with errors='surrogateescape')",
        "ValueError naming the item, not an error from inside the tokenizer (a "
        "TypeError about TextEncodeInput, or a UnicodeEncodeError)",
    ),
    (
        "nul-characters",
        "a NUL character inside a text",
        "MiniLM tokenizers drop it; E5SmallEncoder raises a ValueError naming the "
        "item (its C engine would stop reading there and embed only the part before "
        "the NUL)",
    ),
    (
        "image-layouts",
        "one image without the batch axis, grey (h, w) or colour (h, w, 3); 4 "
        "channels (RGBA); a flat 2-D array without image_shape",
        "ValueError saying how to shape it (one colour image is never read as h grey "
        "images 3 pixels wide); grey (n, h, w), (n, h, w, 1), (n, 1, h, w), RGB "
        "channels first or last and lists of images give the same embeddings",
    ),
    (
        "pixel-range",
        "pixels outside value_range, by default (0, 255) for integers and (0, 1) for "
        "floats: floats of 0 to 255, 16-bit or signed images, ImageNet-normalised "
        "floats",
        "ValueError with the range found and a value_range to pass (they are never "
        "scaled past black and white without a word); up to 1% of slack for "
        "resampling overshoot",
    ),
    (
        "pixel-dtypes",
        "bool, float16, complex, object or string pixels; NaN or infinite pixels",
        "TypeError naming the dtype; ValueError for non-finite pixels",
    ),
    (
        "unknown-words",
        "words missing from the vocabulary",
        "Word2VecEncoder: ValueError naming some of them (handle_unknown='zero': zero "
        "vectors); FastTextEncoder: built from character n-grams, and a ValueError for "
        "a word without any, such as '' (never a silent zero vector)",
    ),
    (
        "sentences-as-words",
        "word encoders' transform given sentences: lists of tokens, or a str with "
        "spaces",
        "TypeError for a list (item 0 is list); a str is one word, unknown unless it "
        "is in the vocabulary",
    ),
    (
        "transform-before-fit",
        "transform before fit",
        "word encoders: NotFittedError; the frozen pretrained encoders need no fit and "
        "embed at once",
    ),
    (
        "fasttext-unseen-words-from-skops",
        "a fitted FastTextEncoder saved with skops and loaded trusting only its own "
        "type; unseen words with accents, CJK characters, emoji, one character, or "
        "longer than max_n",
        "the vectors gensim's FastTextKeyedVectors gives, bit for bit: the encoder "
        "keeps its n-gram buckets as arrays and hashes the n-grams itself (no gensim "
        "type to trust, no gensim to transform)",
    ),
]

TEXT_ENCODERS = [MiniLML6Encoder, MiniLML3Encoder, E5SmallEncoder]


def test_every_case_is_tested():
    check_every_case_is_tested(globals(), CASES)


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    # Tiny batches: threads cost more than they save.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def text_encoders():
    return {
        "l6": MiniLML6Encoder(device="cpu"),
        "l3": MiniLML3Encoder(device="cpu"),
        "e5": E5SmallEncoder(),
    }


@pytest.fixture(scope="module")
def lite0():
    return EfficientNetLiteEncoder("lite0", image_size=32, device="cpu")


CORPUS = [["the", "cat", "sat"], ["the", "dog", "sat"], ["a", "cat", "ran"]] * 30


@pytest.fixture(scope="module")
def word2vec():
    return Word2VecEncoder(vector_size=8, min_count=1, random_state=0).fit(CORPUS)


@pytest.fixture(scope="module")
def fasttext():
    params = dict(vector_size=8, min_count=1, bucket=500, random_state=0)
    return FastTextEncoder(**params).fit(CORPUS)


def _pixels(shape=(2, 12, 12, 3), seed=0):
    return np.random.RandomState(seed).randint(0, 256, size=shape).astype(np.uint8)


@case("empty-input")
def test_empty_input(word2vec, lite0):
    for Encoder in TEXT_ENCODERS:
        with pytest.raises(ValueError, match="empty collection of texts"):
            Encoder().transform([])
    with pytest.raises(ValueError, match="empty collection"):
        word2vec.transform([])
    with pytest.raises(ValueError, match=r"no images \(shape \(0, 8, 8, 1\)\)"):
        lite0.transform(np.zeros((0, 8, 8)))
    for Encoder in (Word2VecEncoder, FastTextEncoder):
        with pytest.raises(ValueError, match="empty corpus"):
            Encoder(min_count=1).fit([])


@case("single-string")
def test_single_string(word2vec):
    for Encoder in TEXT_ENCODERS:
        with pytest.raises(TypeError, match="got a single str; wrap it in a list"):
            Encoder().transform("A whole sentence.")
    with pytest.raises(TypeError, match="got a single str; wrap it in a list"):
        word2vec.transform("cat")
    with pytest.raises(TypeError, match="got a single str"):
        Word2VecEncoder(min_count=1).fit("the cat sat")


@case("non-string-items")
def test_non_string_items(word2vec):
    column = pd.Series(["a text", None, "another"]).where(lambda s: s.notna(), np.nan)
    for encoder in [Encoder() for Encoder in TEXT_ENCODERS] + [word2vec]:
        for X, match in [
            (["fine", 3], r"item 1 is int \(3\)"),
            (["fine", None], r"item 1 is NoneType \(None\)"),
            ([b"bytes"], "item 0 is bytes"),
            (column, r"item 1 is float \(nan\)"),
        ]:
            with pytest.raises(TypeError, match=match):
                encoder.transform(X)


@case("string-arrays")
def test_string_arrays(text_encoders, word2vec):
    l3 = text_encoders["l3"]
    texts = ["A man plays the guitar.", "Rates rose again."]
    column = np.array(texts)[:, None]
    np.testing.assert_array_equal(l3.transform(column), l3.transform(texts))
    np.testing.assert_array_equal(
        word2vec.transform(np.array([["cat"], ["dog"]])),
        word2vec.transform(["cat", "dog"]),
    )
    for encoder in [Encoder() for Encoder in TEXT_ENCODERS] + [word2vec]:
        with pytest.raises(ValueError, match=r"1-D collection .* shape \(2, 2\)"):
            encoder.transform(np.array([["a", "b"], ["c", "d"]]))


@case("long-texts")
def test_long_texts(text_encoders):
    # About 530 tokens, beyond every model's limit; the two texts differ only after.
    long = "The cat sat on the mat. " * 75
    longer = long + "Interest rates rose sharply on the stock market. " * 5
    for name in ("l6", "l3"):
        E = text_encoders[name].transform([long, longer])
        np.testing.assert_array_equal(E[0], E[1])  # truncated alike
    l3_short = MiniLML3Encoder(max_length=16, device="cpu")
    E = l3_short.transform(
        ["The cat sat on the mat. " * 3, "The cat sat on the mat. " * 4]
    )
    np.testing.assert_array_equal(E[0], E[1])  # 16 word pieces hold the first 2
    E = text_encoders["e5"].transform([long, longer])
    assert np.isfinite(E).all()
    assert np.abs(E[0] - E[1]).max() > 1e-3  # the ending counts: nothing is cut


@case("empty-texts")
def test_empty_texts(text_encoders):
    for encoder in text_encoders.values():
        E = encoder.transform(["", " ", "\n\t ", "A man plays the guitar."])
        assert np.isfinite(E).all()
        np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1.0, atol=1e-4)
        np.testing.assert_array_equal(E[1], E[0])
        np.testing.assert_array_equal(E[2], E[0])
        assert np.abs(E[3] - E[0]).max() > 1e-2


@case("invalid-unicode")
def test_invalid_unicode(word2vec):
    bad = b"caf\xe9".decode("utf-8", errors="surrogateescape")
    for encoder in [Encoder() for Encoder in TEXT_ENCODERS] + [word2vec]:
        with pytest.raises(ValueError, match=r"item 1 \('caf\\udce9'\) .* surrogate"):
            encoder.transform(["fine", bad])
    for Encoder in TEXT_ENCODERS:
        with pytest.raises(ValueError, match="lone surrogate"):
            Encoder().fit([bad])


@case("nul-characters")
def test_nul_characters(text_encoders):
    for name in ("l6", "l3"):
        E = text_encoders[name].transform(["abc\x00def", "abcdef", "abc"])
        np.testing.assert_array_equal(E[0], E[1])
        assert np.abs(E[0] - E[2]).max() > 1e-2
    with pytest.raises(ValueError, match=r"item 1 .* NUL character"):
        text_encoders["e5"].transform(["fine", "abc\x00def"])
    with pytest.raises(ValueError, match="NUL character"):
        E5SmallEncoder().fit(["abc\x00def"])


@case("image-layouts")
def test_image_layouts(lite0):
    rgb = _pixels()
    with pytest.raises(ValueError, match=r"one colour image .* X\[np.newaxis\]"):
        lite0.transform(rgb[0])
    with pytest.raises(ValueError, match=r"shape \(12, 12, 4\)"):
        lite0.transform(np.concatenate([rgb, rgb[..., :1]], axis=-1)[0])
    rgba = np.concatenate([rgb, rgb[..., :1]], axis=-1)
    with pytest.raises(
        ValueError, match=r"RGBA\? drop the alpha channel: X\[\.\.\., :3\]"
    ):
        lite0.transform(rgba)
    with pytest.raises(ValueError, match=r"RGBA\? drop the alpha channel: X\[:, :3\]"):
        lite0.transform(np.moveaxis(rgba, -1, 1))
    with pytest.raises(ValueError, match="pass image_shape"):
        lite0.transform(rgb[0, ..., 0])  # one grey image
    E = lite0.transform(rgb)
    assert E.shape == (2, 1280)
    np.testing.assert_allclose(lite0.transform(np.moveaxis(rgb, -1, 1)), E, atol=1e-4)
    np.testing.assert_allclose(lite0.transform(list(rgb)), E, atol=1e-4)
    np.testing.assert_allclose(lite0.transform(rgb[:1]), E[:1], atol=1e-4)
    grey = rgb[..., 0]
    expected = lite0.transform(grey)
    for X in (grey[..., None], grey[:, None], np.repeat(grey[..., None], 3, axis=-1)):
        np.testing.assert_allclose(lite0.transform(X), expected, atol=1e-4)
    narrow = _pixels((2, 12, 3, 1))  # grey images 3 pixels wide: say so with an axis
    assert lite0.transform(narrow).shape == (2, 1280)


@case("pixel-range")
def test_pixel_range(lite0):
    pixels = _pixels()
    expected = lite0.transform(pixels)
    np.testing.assert_allclose(lite0.transform(pixels / 255.0), expected, atol=1e-4)
    for X, match in [
        (pixels.astype(np.float32), r"from 0 to 255, outside \(0, 1\).*\(0, 255\)"),
        (pixels.astype(np.uint16) * 257, r"from 0 to 65535, .*\(0, 65535\)"),
        (pixels.astype(np.int16) - 128, r"from -128 to 127, outside \(0, 255\)"),
        ((pixels / 255.0 - 0.45) / 0.22, r"outside \(0, 1\), the default value_range"),
    ]:
        with pytest.raises(ValueError, match=match):
            lite0.transform(X)
        with pytest.raises(ValueError, match=match):
            copy.copy(lite0).fit(X)
    digits = copy.copy(lite0).set_params(value_range=(0, 16))
    with pytest.raises(ValueError, match=r"outside \(0, 16\), value_range"):
        digits.transform(pixels)
    np.testing.assert_allclose(
        digits.transform(pixels / 255.0 * 16), expected, atol=1e-4
    )
    wide = copy.copy(lite0).set_params(value_range=(0, 255))
    np.testing.assert_allclose(
        wide.transform(pixels.astype(np.float32)), expected, atol=1e-4
    )
    # Resampling overshoot (within 1% of the range) is accepted.
    overshoot = pixels / 255.0 * 1.008 - 0.004
    assert lite0.transform(overshoot).shape == (2, 1280)


@case("pixel-dtypes")
def test_pixel_dtypes(lite0):
    pixels = _pixels()
    for X in (
        pixels > 128,
        pixels.astype(np.float16),
        pixels.astype(complex),
        pixels.astype(object),
        pixels.astype(str),
    ):
        with pytest.raises(TypeError, match=f"got dtype {X.dtype}"):
            lite0.transform(X)
    for value in (np.nan, np.inf):
        bad = pixels / 255.0
        bad[0, 1, 1, 1] = value
        with pytest.raises(ValueError, match="NaN or infinite pixels"):
            lite0.transform(bad)


@case("unknown-words")
def test_unknown_words(word2vec, fasttext):
    with pytest.raises(ValueError, match=r"2 of 3 words .* 'bird', 'Cat'"):
        word2vec.transform(["cat", "bird", "Cat"])
    zero = copy.copy(word2vec).set_params(handle_unknown="zero")
    V = zero.transform(["cat", "bird"])
    assert V[0].any() and not V[1].any()
    V = fasttext.transform(["cats", "cat"])  # "cats" is unseen: built from n-grams
    assert V[0].any() and not np.array_equal(V[0], V[1])
    for words in ([""], ["cat", ""]):
        with pytest.raises(ValueError, match=r"no character n-grams of 3 to 6 .* ''"):
            fasttext.transform(words)
    short = FastTextEncoder(
        vector_size=8, min_count=1, bucket=500, min_n=5, max_n=6, random_state=0
    ).fit(CORPUS)
    with pytest.raises(ValueError, match=r"n-grams of 5 to 6 characters .* 'ab'"):
        short.transform(["ab"])  # "<ab>": 4 characters
    assert short.transform(["abc"]).any()  # "<abc>": one n-gram of 5
    zero = copy.copy(fasttext).set_params(handle_unknown="zero")
    assert not zero.transform([""]).any()


@case("sentences-as-words")
def test_sentences_as_words(word2vec, fasttext):
    for encoder in (word2vec, fasttext):
        with pytest.raises(TypeError, match=r"item 0 is list \(\['the', 'cat'\]\)"):
            encoder.transform([["the", "cat"]])
    with pytest.raises(ValueError, match="'the cat'"):
        word2vec.transform(["the cat"])


@case("transform-before-fit")
def test_transform_before_fit(text_encoders, lite0):
    for Encoder in (Word2VecEncoder, FastTextEncoder):
        with pytest.raises(NotFittedError):
            Encoder().transform(["cat"])
    # Fresh, never fitted (the loaded models are shared, so this loads nothing).
    for encoder in (
        MiniLML6Encoder(device="cpu"),
        MiniLML3Encoder(device="cpu"),
        E5SmallEncoder(),
    ):
        assert encoder.transform(["A text."]).shape == (1, 384)
    fresh = EfficientNetLiteEncoder("lite0", image_size=32, device="cpu")
    assert fresh.transform(_pixels()).shape == (2, 1280)


UNSEEN = [
    "cats",
    "caterpillar",
    "café",
    "naïve",
    "日本語",
    "👍🏽ok",
    "x",
    "dogsat",
    "ß",
]


@case("fasttext-unseen-words-from-skops")
def test_fasttext_unseen_words_from_skops(tmp_path, monkeypatch):
    sio = pytest.importorskip("skops.io")
    # gensim's own vectors, as fit trained them.
    trained = {}
    store = FastTextEncoder._store_vectors

    def keep(self, wv):
        trained["wv"] = wv
        store(self, wv)

    monkeypatch.setattr(FastTextEncoder, "_store_vectors", keep)
    params = dict(vector_size=8, min_count=1, bucket=500, random_state=0)
    encoder = FastTextEncoder(**params).fit(CORPUS)
    wv = trained["wv"]
    assert not any(word in wv.key_to_index for word in UNSEEN)
    expected = np.stack([wv.get_vector(word) for word in [*UNSEEN, "cat"]])
    path = tmp_path / "fasttext.skops"
    sio.dump(encoder, path)
    name = f"{FastTextEncoder.__module__}.{FastTextEncoder.__qualname__}"
    assert sio.get_untrusted_types(file=path) == [name]
    loaded = sio.load(path, trusted=[name])
    for fitted in (encoder, loaded):
        np.testing.assert_array_equal(fitted.transform([*UNSEEN, "cat"]), expected)
