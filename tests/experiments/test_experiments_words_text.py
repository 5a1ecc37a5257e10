"""The word-embedding, text and cross-lingual experiments, on tiny seeded inputs."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics.pairwise import cosine_similarity

from skrelrep.experiments import EXPERIMENTS
from skrelrep.experiments._embedded import (
    embedded_stitching,
    pair_table,
    parallel_stitching,
    random_rotation,
)
from skrelrep.experiments._result import MISSING
from skrelrep.experiments._text_shared import (
    E5,
    EN_E5,
    EN_L6,
    IT_E5,
    L3,
    L3_ROTATED,
    L6,
    alignment_finding,
    measured_finding,
)
from skrelrep.experiments.crosslingual import crosslingual_findings
from skrelrep.experiments.text import HELD_OUT, TOPICS, text_findings
from skrelrep.experiments.words import (
    ANCHORS,
    PAPER_METRICS,
    PUBLISHED,
    retrieval_agreement,
    shared_vocabulary,
    summaries,
    train_word_encoders,
    word_agreement,
    word_findings,
)
from skrelrep.metrics import retrieval_agreement as public_retrieval_agreement


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
    found = retrieval_agreement(A, B, k=k)
    jaccard, mrr = found.jaccard, found.mrr
    expected_jaccard, expected_mrr = _brute_force_retrieval(A, B, k)
    assert jaccard == pytest.approx(expected_jaccard)
    assert mrr == pytest.approx(expected_mrr)
    assert 0 < mrr < 1 and 0 < jaccard < 1


def test_retrieval_agreement_identical_and_unrelated_spaces():
    rng = np.random.RandomState(1)
    A = rng.normal(size=(200, 10))
    same = retrieval_agreement(A, A, k=5)
    assert (same.jaccard, same.mrr) == (1.0, 1.0)
    unrelated = retrieval_agreement(A, rng.normal(size=A.shape), k=5)
    assert unrelated.jaccard < 0.1 and unrelated.mrr < 0.1


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

    summary, spread = summaries(frame)
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


def test_rotation_control_on_64_fortunes(minilm_codes):
    """Relative stitching to L3's rotated codes scores what it scores unrotated.

    The splits and anchors of :func:`parallel_stitching` are those of
    :func:`embedded_stitching`; relative codes do not see the rotation (up to
    rounding, which may flip at most one prediction of the test split).
    """
    codes, y = minilm_codes
    frame = embedded_stitching(
        codes, y, n_anchors=30, repeats=2, random_state=0, show_progress=False
    )
    rotated = parallel_stitching(
        {L6: codes[L6], L3_ROTATED: codes[L3] @ random_rotation(384, 0)},
        y,
        n_anchors=30,
        repeats=2,
    )
    assert list(rotated.columns) == list(frame.columns)
    assert rotated.attrs["chance"] == pytest.approx(frame.attrs["chance"])
    n_test = int(np.ceil(0.3 * len(y)))
    ours = rotated.set_index(["repeat", "space", "encoder", "decoder"])["score"]
    theirs = frame.set_index(["repeat", "space", "encoder", "decoder"])["score"]
    for repeat in (0, 1):
        for encoder, decoder in [(L6, L6), (L6, L3), (L3, L6), (L3, L3)]:
            renamed = [L3_ROTATED if n == L3 else n for n in (encoder, decoder)]
            mine = ours[(repeat, "relative", *renamed)]
            assert abs(mine - theirs[repeat, "relative", encoder, decoder]) <= (
                1 / n_test + 1e-9
            )


def _blobs(n_per_class=40, d=16, seed=0):
    rng = np.random.RandomState(seed)
    centers = rng.normal(scale=2.0, size=(3, d))
    y = np.repeat(np.arange(3), n_per_class)
    return centers[y] + rng.normal(size=(len(y), d)), y


def test_parallel_stitching_rotation_and_anchor_codes():
    A, y = _blobs()
    rotated = A @ _rotation(16, 3)
    frame = parallel_stitching({"a": A, "b": rotated}, y, n_anchors=20, repeats=2)
    assert len(frame) == 2 * 2 * 4  # repeats × spaces × pairs
    relative = frame[frame["space"] == "relative"].set_index(
        ["repeat", "encoder", "decoder"]
    )["score"]
    for repeat in (0, 1):
        assert relative[repeat, "a", "b"] == pytest.approx(relative[repeat, "a", "a"])
    absolute = frame[(frame["space"] == "absolute") & frame["stitched"]]
    assert absolute["score"].max() < 0.8
    # Anchors given as codes (items outside the task), the same in every split.
    outside, _ = _blobs(n_per_class=10, seed=1)
    held_out = parallel_stitching(
        {"a": A, "b": rotated},
        y,
        anchor_codes={"a": outside, "b": outside @ _rotation(16, 3)},
        absolute=False,
        repeats=2,
    )
    assert set(held_out["space"]) == {"relative"}
    scores = held_out.set_index(["repeat", "encoder", "decoder"])["score"]
    assert scores[0, "b", "a"] == pytest.approx(scores[0, "a", "a"])
    with pytest.raises(ValueError, match="exactly one"):
        parallel_stitching({"a": A}, y)


def test_random_rotation_is_orthogonal_and_seeded():
    Q = random_rotation(12, 5)
    np.testing.assert_allclose(Q @ Q.T, np.eye(12), atol=1e-12)
    np.testing.assert_array_equal(Q, random_rotation(12, 5))
    assert not np.allclose(Q, random_rotation(12, 6))


def test_held_out_topics_are_not_classified():
    assert not set(HELD_OUT) & set(TOPICS)


# --- fabricated results: every claim can fail -------------------------------------


def _tidy(scores, repeats=3):
    """A tidy stitching frame from ``{(space, encoder, decoder): score}``."""
    rows = [
        (repeat, space, encoder, decoder, score + 0.001 * repeat, encoder != decoder)
        for (space, encoder, decoder), score in scores.items()
        for repeat in range(repeats)
    ]
    columns = ["repeat", "space", "encoder", "decoder", "score", "stitched"]
    return pd.DataFrame(rows, columns=columns)


def _stitching(names, *, same, relative, absolute, spaces=("absolute", "relative")):
    scores = {}
    for space in spaces:
        for encoder in names:
            for decoder in names:
                if encoder == decoder:
                    score = same
                else:
                    score = relative if space == "relative" else absolute
                scores[space, encoder, decoder] = score
    return _tidy(scores)


def _text_frames(*, absolute, relative, rotated_absolute, rotated_relative, ood):
    frame = _stitching([L6, L3, E5], same=0.8, relative=relative, absolute=absolute)
    rotated = _stitching(
        [L6, L3_ROTATED], same=0.8, relative=rotated_relative, absolute=rotated_absolute
    )
    held_out = _stitching(
        [L6, L3, E5], same=0.8, relative=ood, absolute=0.0, spaces=("relative",)
    )
    return frame, rotated, held_out


@pytest.mark.parametrize(
    ("scores", "holds"),
    [
        (
            dict(
                absolute=0.15,
                relative=0.78,
                rotated_absolute=0.13,
                rotated_relative=0.78,
                ood=0.76,
            ),
            True,
        ),
        # Absolute stitching at 0.5 (a rule of "relative − 0.2" would let it pass),
        # relative stitching low, rotation changing relative scores, weak anchors.
        (
            dict(
                absolute=0.5,
                relative=0.4,
                rotated_absolute=0.5,
                rotated_relative=0.45,
                ood=0.3,
            ),
            False,
        ),
    ],
    ids=["supports-them", "contradicts-them"],
)
def test_text_findings_hold_or_fail_with_the_result(scores, holds):
    findings = text_findings(*_text_frames(**scores), chance=0.125)
    assert len(findings) == 12
    assert all(finding.holds is holds for finding in findings), [
        f.claim for f in findings if f.holds is not holds
    ]


def test_text_findings_keep_is_strict():
    """Relative stitching that loses 0.1 of 0.8 (88 % retained) does not "keep" it."""
    frames = _text_frames(
        absolute=0.15,
        relative=0.7,
        rotated_absolute=0.13,
        rotated_relative=0.7,
        ood=0.7,
    )
    keeps = [f for f in text_findings(*frames, chance=0.125) if "keeps the" in f.claim]
    assert len(keeps) == 2 and not any(f.holds for f in keeps)


def _crosslingual(*, absolute, e5_absolute_same, e5_relative_same, e5_stitched):
    frame = _stitching([EN_L6, IT_E5], same=0.8, relative=0.78, absolute=absolute)
    e5 = _tidy(
        {
            ("absolute", EN_E5, EN_E5): e5_absolute_same,
            ("absolute", IT_E5, IT_E5): e5_absolute_same,
            ("absolute", EN_E5, IT_E5): e5_stitched,
            ("absolute", IT_E5, EN_E5): e5_stitched,
            ("relative", EN_E5, EN_E5): e5_relative_same,
            ("relative", IT_E5, IT_E5): e5_relative_same,
            ("relative", EN_E5, IT_E5): 0.7,
            ("relative", IT_E5, EN_E5): 0.7,
        }
    )
    # IT_E5's own rows appear in both: keep one copy.
    return pd.concat([frame, e5]).drop_duplicates(
        ["repeat", "space", "encoder", "decoder"]
    )


def test_crosslingual_findings_hold_and_fail():
    good = _crosslingual(
        absolute=0.33, e5_absolute_same=0.8, e5_relative_same=0.78, e5_stitched=0.78
    )
    findings = crosslingual_findings(good, chance=0.3)
    assert len(findings) == 4 and all(f.holds for f in findings)
    bad = _crosslingual(
        absolute=0.6, e5_absolute_same=0.8, e5_relative_same=0.78, e5_stitched=0.5
    )
    assert not any(f.holds for f in crosslingual_findings(bad, chance=0.3)[::3])
    # A held-back absolute decoder (0.55) must not make e5's alignment look kept:
    # the reference is the better same-model decoder (relative, 0.8).
    held_back = _crosslingual(
        absolute=0.33, e5_absolute_same=0.55, e5_relative_same=0.8, e5_stitched=0.55
    )
    assert crosslingual_findings(held_back, chance=0.3)[-1].holds is False


def test_alignment_and_measured_findings_can_fail():
    def similarity(mrr):
        return pd.DataFrame(
            {
                "pair": ["a vs b"] * 2,
                "metric": ["MRR", "cosine"],
                "absolute": [mrr, 0.1],
                "relative": [0.9, 0.9],
            }
        )

    assert alignment_finding(similarity(0.8), "a vs b", 1000).holds
    assert alignment_finding(similarity(0.05), "a vs b", 1000).holds is False
    close = {"x": (0.80, 0.82), "y": (0.70, 0.72)}
    assert measured_finding("matches", close).holds
    assert measured_finding("matches", {**close, "z": (0.6, 0.72)}).holds is False


def test_pair_table_gives_mean_and_std_over_splits():
    frame = _stitching([L6, E5], same=0.8, relative=0.7, absolute=0.2)
    table = pair_table({"in-domain": frame}, [(L6, E5), (L6, L3)])
    assert list(table["space"]) == ["absolute", "relative"]  # (L6, L3) is absent
    row = table.set_index("space").loc["relative"]
    assert row["stitched"] == pytest.approx(0.701)
    assert row["stitched std"] == pytest.approx(0.001)
    assert row["splits"] == 3


def _words(relative, absolute=0.0, own=0.5, seeds=(0, 1, 2)):
    """Tidy word results: every relative cell ``relative`` (or a callable)."""
    rows = []
    for direction in ("FT→W2V", "W2V→FT"):
        for metric in [*PAPER_METRICS, "neighbourhood jaccard@5"]:
            value = own if metric.startswith("neighbourhood") else absolute
            rows.append(("none", -1, direction, "absolute", metric, value))
        for anchors in ANCHORS:
            for seed in seeds:
                for metric in PAPER_METRICS:
                    value = (
                        relative(anchors, direction, metric)
                        if callable(relative)
                        else relative
                    )
                    rows.append((anchors, seed, direction, "relative", metric, value))
    columns = ["anchors", "seed", "direction", "space", "metric", "value"]
    return pd.DataFrame(rows, columns=columns)


def _published(anchors, direction, metric):
    table = PUBLISHED.set_index(["anchors", "direction"])
    return table.loc[(anchors, direction), metric]


def test_word_findings_hold_and_fail():
    good = _words(lambda *cell: _published(*cell) + 0.02)
    findings = word_findings(good, good, "all")
    assert len(findings) == 6 and all(f.holds for f in findings)
    bad = _words(0.1, absolute=0.05, own=0.1)
    assert not any(f.holds for f in word_findings(bad, bad, "all"))


def test_word_findings_compare_every_cell_with_the_published_level():
    """One cell far below the published value is a "no", whatever the others do."""

    def relative(anchors, direction, metric):
        if (anchors, direction, metric) == ("FPS", "FT→W2V", "MRR@5"):
            return 0.5
        return _published(anchors, direction, metric) + 0.1  # the mean gap is > 0

    published = [f for f in word_findings(_words(relative)) if "published" in f.claim]
    assert len(published) == 1 and published[0].holds is False
    assert "FPS FT→W2V MRR@5" in published[0].evidence


def test_words_use_the_public_retrieval_agreement():
    assert retrieval_agreement is public_retrieval_agreement


# --- the full --quick experiments ---------------------------------------------------


def _check_result(result, name, *, tables):
    assert result.name == name
    assert set(tables) <= set(result.tables)
    assert result.figures and result.findings
    assert result.published is not None


@pytest.mark.slow
def test_run_words_quick():
    spec = EXPERIMENTS["words"]
    result = spec.run(spec.quick, show_progress=False)
    if result.skipped:
        pytest.skip(result.skipped)
    _check_result(
        result, "words", tables=["results", "summary", "uniform anchors by vocabulary"]
    )
    keys = ["anchors", "direction", "space"]
    pd.testing.assert_frame_equal(result.tables["summary"][keys], PUBLISHED[keys])
    assert len(result.findings) == 6
    assert all(isinstance(finding.holds, bool) for finding in result.findings)


@pytest.mark.slow
def test_run_text_quick():
    spec = EXPERIMENTS["text"]
    result = spec.run(spec.quick, show_progress=False)
    if result.skipped:
        pytest.skip(result.skipped)
    tables = ["summary", "matrix", "pairs", "rotation control", "out-of-domain anchors"]
    _check_result(result, "text", tables=[*tables, "latent similarity"])
    assert len(result.tables["matrix"]) == 6 * 9  # spaces × encoder-decoder pairs
    pairs = set(result.tables["pairs"]["pair"])
    assert f"{L6} ↔ {E5}" in pairs and f"{L6} ↔ {L3_ROTATED}" in pairs
    assert len(result.findings) == 14
    assert all(isinstance(finding.holds, bool) for finding in result.findings)


@pytest.mark.slow
def test_run_crosslingual_quick():
    spec = EXPERIMENTS["crosslingual"]
    result = spec.run(spec.quick, show_progress=False)
    if result.skipped:
        pytest.skip(result.skipped)
    _check_result(result, "crosslingual", tables=["summary", "matrix", "pairs"])
    assert len(result.tables["matrix"]) == 6 * 4
    assert len(result.findings) == 4
    assert all(isinstance(finding.holds, bool) for finding in result.findings)
