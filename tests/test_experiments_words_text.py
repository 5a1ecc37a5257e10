"""The word-embedding, text and cross-lingual experiments, on tiny seeded inputs."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics.pairwise import cosine_similarity

from skrelrep.experiments._result import MISSING
from skrelrep.experiments.text import (
    L3,
    L6,
    embedded_stitching,
    run_crosslingual,
    run_text,
)
from skrelrep.experiments.words import (
    PUBLISHED,
    _summaries,
    retrieval_agreement,
    run_words,
    shared_vocabulary,
    train_word_encoders,
    word_agreement,
)


def _rotation(d, seed):
    Q, _ = np.linalg.qr(np.random.RandomState(seed).normal(size=(d, d)))
    return Q


# --- words -------------------------------------------------------------------------


def _brute_force_retrieval(A, B, k):
    """The paper's Jaccard@k and MRR@k from full similarity matrices."""
    truth = np.argsort(-cosine_similarity(B, B), axis=1)[:, :k]
    found = np.argsort(-cosine_similarity(A, B), axis=1)[:, :k]
    jaccard, reciprocal = [], []
    for i, (t, f) in enumerate(zip(truth, found, strict=True)):
        jaccard.append(len(set(t) & set(f)) / len(set(t) | set(f)))
        hit = np.flatnonzero(f == i)
        reciprocal.append(1.0 / (hit[0] + 1) if hit.size else 0.0)
    return np.mean(jaccard), np.mean(reciprocal)


@pytest.mark.parametrize("k", [1, 5])
def test_retrieval_agreement_matches_brute_force(k):
    rng = np.random.RandomState(0)
    A = rng.normal(size=(60, 8))
    B = A + rng.normal(scale=0.8, size=A.shape)  # related but not identical
    jaccard, mrr = retrieval_agreement(A, B, k=k)
    expected_jaccard, expected_mrr = _brute_force_retrieval(A, B, k)
    assert jaccard == pytest.approx(expected_jaccard)
    assert mrr == pytest.approx(expected_mrr)
    assert 0 < mrr < 1 and 0 < jaccard < 1


def test_retrieval_agreement_identical_and_unrelated_spaces():
    rng = np.random.RandomState(1)
    A = rng.normal(size=(200, 10))
    assert retrieval_agreement(A, A, k=5) == (1.0, 1.0)
    jaccard, mrr = retrieval_agreement(A, rng.normal(size=A.shape), k=5)
    assert jaccard < 0.1 and mrr < 0.1


def test_word_agreement_is_invariant_to_rotation_and_scale():
    """A rotated, rescaled copy: relative spaces agree exactly, absolute ones do not."""
    rng = np.random.RandomState(0)
    A = rng.normal(size=(150, 12))
    vectors = {"FT": A, "W2V": 3.0 * A @ _rotation(12, 1)}
    frame = word_agreement(vectors, n_anchors=30, seeds=[0, 1], show_progress=False)
    relative = frame[frame["space"] == "relative"]
    absolute = frame[frame["space"] == "absolute"]
    assert set(relative["anchors"]) == {"uniform", "FPS", "k-means"}
    assert len(relative) == 3 * 2 * 2 * 5  # anchors × seeds × directions × metrics
    np.testing.assert_allclose(relative["value"], 1.0, atol=1e-6)
    absolute = absolute.set_index(["direction", "metric"])["value"]
    assert absolute["FT→W2V", "MRR@5"] < 0.2
    assert absolute["FT→W2V", "cosine"] < 0.5
    # Each space's own neighbourhoods survive the rotation.
    assert absolute["FT→W2V", "neighbourhood jaccard@5"] == pytest.approx(1.0)

    summary, spread = _summaries(frame)
    keys = ["anchors", "direction", "space"]
    # Our summary and the published table line up row by row.
    pd.testing.assert_frame_equal(summary[keys], PUBLISHED[keys])
    assert list(spread.columns) == list(summary.columns)


def test_word_agreement_needs_two_spaces():
    with pytest.raises(ValueError, match="two spaces"):
        word_agreement({"a": np.eye(3)}, n_anchors=2, seeds=[0])


class _Vocabulary:
    def __init__(self, words):
        self.vocabulary_ = {word: rank for rank, word in enumerate(words)}


def test_shared_vocabulary_filters_like_the_notebook():
    ranked = ["the", "lord", "shall", "king's", "moses", "ox", "zion", "aaron"]
    encoders = {"a": _Vocabulary(ranked), "b": _Vocabulary(ranked[:-1])}
    counts = dict(zip(ranked, [90, 80, 70, 60, 50, 40, 3, 30], strict=True))
    # "the" skipped as most frequent; "king's" not alphabetic; "ox" too short;
    # "aaron" unknown to "b".
    assert shared_vocabulary(encoders, skip_most_frequent=1) == [
        "lord",
        "shall",
        "moses",
        "zion",
    ]
    assert shared_vocabulary(
        encoders, counts, min_frequency=10, skip_most_frequent=1, max_words=2
    ) == ["lord", "shall"]
    assert "zion" not in shared_vocabulary(encoders, counts, min_frequency=10)
    with pytest.raises(ValueError, match="counts"):
        shared_vocabulary(encoders, min_frequency=10)


@pytest.fixture(scope="module")
def genesis_encoders():
    pytest.importorskip("gensim")
    from skrelrep.datasets import load_word_corpus

    try:
        sentences = load_word_corpus("bible", books=["Genesis"])
    except MISSING as exc:
        pytest.skip(str(exc))
    encoders = train_word_encoders(
        sentences, vector_size=50, epochs=10, bucket=20_000, show_progress=False
    )
    return encoders, sentences


def test_word_experiment_on_genesis(genesis_encoders):
    """Trained apart on Genesis, the two models agree in relative space only."""
    encoders, sentences = genesis_encoders
    from collections import Counter

    counts = Counter(word for sentence in sentences for word in sentence)
    words = shared_vocabulary(encoders, counts, min_frequency=10)
    assert 200 < len(words) < 1000
    assert all(counts[word] >= 10 for word in words)
    vectors = {name: encoder.transform(words) for name, encoder in encoders.items()}
    frame = word_agreement(
        vectors,
        n_anchors=50,
        anchors={"uniform": "random"},
        seeds=[0],
        show_progress=False,
    )
    means = frame.groupby(["space", "metric"])["value"].mean()
    for metric in ("jaccard@5", "MRR@5", "cosine", "MRR"):
        assert means["relative", metric] > means["absolute", metric] + 0.1, metric
    # Different training seeds: no shared initial vectors, so absolute cosines ~ 0.
    assert abs(means["absolute", "cosine"]) < 0.1


# --- text ----------------------------------------------------------------------------


def test_embedded_stitching_on_rotated_codes():
    """Relative stitching of a rotated copy scores exactly the same model's accuracy."""
    rng = np.random.RandomState(0)
    centers = rng.normal(scale=2.0, size=(3, 16))
    y = np.repeat(np.arange(3), 40)
    A = centers[y] + rng.normal(size=(120, 16))
    codes = {"a": A, "b": A @ _rotation(16, 2)}
    frame = embedded_stitching(
        codes, y, n_anchors=40, repeats=2, random_state=0, show_progress=False
    )
    assert list(frame.columns) == [
        "repeat",
        "space",
        "encoder",
        "decoder",
        "score",
        "stitched",
    ]
    assert len(frame) == 2 * 2 * 4  # repeats × spaces × encoder-decoder pairs
    assert frame.attrs["chance"] == pytest.approx(1 / 3, abs=0.02)
    relative = frame[frame["space"] == "relative"].set_index(
        ["repeat", "encoder", "decoder"]
    )["score"]
    for repeat in (0, 1):
        same = relative[repeat, "a", "a"]
        assert same > 0.9
        assert relative[repeat, "b", "a"] == pytest.approx(same)
        assert relative[repeat, "a", "b"] == pytest.approx(same)
    absolute = frame[(frame["space"] == "absolute") & frame["stitched"]]
    assert absolute["score"].max() < 0.8


@pytest.fixture(scope="module")
def minilm_codes():
    """64 fortunes in 4 topics, embedded by both MiniLMs (loaded once)."""
    try:
        from skrelrep.datasets import load_fortunes
        from skrelrep.encoders import MiniLML3Encoder, MiniLML6Encoder

        texts, y = load_fortunes(
            ["computers", "food", "law", "love"],
            n_per_topic=16,
            max_chars=300,
            random_state=0,
            return_X_y=True,
        )
        codes = {
            L6: MiniLML6Encoder(device="cpu").fit_transform(texts),
            L3: MiniLML3Encoder(device="cpu").fit_transform(texts),
        }
    except MISSING as exc:
        pytest.skip(str(exc))
    return codes, y


def test_text_stitching_on_64_fortunes(minilm_codes):
    codes, y = minilm_codes
    frame = embedded_stitching(
        codes, y, n_anchors=30, repeats=2, random_state=0, show_progress=False
    )
    scores = frame.groupby(["space", "stitched"])["score"].mean()
    chance = frame.attrs["chance"]
    assert scores["relative", False] > chance + 0.3
    assert scores["relative", True] > chance + 0.3
    # Relative stitching keeps most of the same-model accuracy.
    assert scores["relative", True] > 0.75 * scores["relative", False]


# --- the full --quick experiments ---------------------------------------------------


def _check_result(result, name, *, tables):
    assert result.name == name
    assert set(tables) <= set(result.tables)
    assert result.figures and result.findings
    assert result.published is not None


@pytest.mark.slow
def test_run_words_quick():
    result = run_words(quick=True, show_progress=False)
    if not result.tables:
        pytest.skip(result.description)
    _check_result(
        result, "words", tables=["results", "summary", "uniform anchors by vocabulary"]
    )
    keys = ["anchors", "direction", "space"]
    pd.testing.assert_frame_equal(result.tables["summary"][keys], PUBLISHED[keys])
    relative_beats_absolute = [f for f in result.findings if "far above" in f.claim]
    assert len(relative_beats_absolute) == 3
    assert all(finding.holds for finding in relative_beats_absolute)


@pytest.mark.slow
def test_run_text_quick():
    result = run_text(quick=True, show_progress=False)
    if not result.tables:
        pytest.skip(result.description)
    _check_result(result, "text", tables=["summary", "matrix", "latent similarity"])
    summary = result.tables["summary"].set_index("space")
    assert summary.loc["relative", "stitched"] > 0.5
    assert summary.loc["relative", "retained"] > 0.8
    assert len(result.tables["matrix"]) == 8


@pytest.mark.slow
def test_run_crosslingual_quick():
    result = run_crosslingual(quick=True, show_progress=False)
    if not result.tables:
        pytest.skip(result.description)
    _check_result(result, "crosslingual", tables=["summary", "matrix"])
    summary = result.tables["summary"].set_index("space")
    assert summary.loc["relative", "stitched"] > summary.loc["absolute", "stitched"]
    assert summary.loc["relative", "stitched"] > 0.5
