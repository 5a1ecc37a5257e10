"""The experiments at a small scale: the paper's findings on tiny, seeded runs."""

import numpy as np
import pandas as pd
import pytest

from skrelrep.experiments import anchors, vision
from skrelrep.experiments._claims import stitching_claims
from skrelrep.experiments._stitching import summarize_stitching, train_seed_encoders
from skrelrep.experiments.anchors import anchor_findings, anchor_sweep
from skrelrep.experiments.latent import latent_similarity
from skrelrep.experiments.vision import stitch_seed_encoders, stitching_findings


def test_seed_stitching_relative_beats_absolute(digits):
    X, y = digits
    trained = train_seed_encoders(X, y, seeds=(0, 1), show_progress=False)
    frame = stitch_seed_encoders(trained, dataset="digits", n_anchors=50)
    assert len(frame) == 2 * 4
    summary = summarize_stitching(frame).set_index("space")
    assert summary.loc["relative", "stitched"] > 0.85
    assert summary.loc["absolute", "stitched"] < 0.4
    assert summary.loc["relative", "retained"] > 0.9


def test_anchor_sweep_more_anchors_help(digits):
    X, y = digits
    trained = train_seed_encoders(X, y, seeds=(0, 1), show_progress=False)
    frame = anchor_sweep(
        trained, counts=(1, 50), strategies=("random", "fps"), show_progress=False
    )
    assert set(frame.columns) == {
        "strategy",
        "n_anchors",
        "repeat",
        "encoder",
        "decoder",
        "stitched",
        "score",
    }
    stitched = frame[frame["stitched"]].groupby("n_anchors")["score"].mean()
    assert stitched[50] > stitched[1] + 0.3


def test_latent_similarity_against_a_rotation():
    """A rotated copy agrees perfectly in relative space and not in absolute space."""
    rng = np.random.RandomState(0)
    A = rng.normal(size=(300, 16))
    Q, _ = np.linalg.qr(rng.normal(size=(16, 16)))
    frame = latent_similarity(A, 2 * A @ Q, n_anchors=40).set_index(["space", "metric"])
    value = frame["value"]
    assert value["relative", "MRR"] == pytest.approx(1.0)
    assert value["relative", "cosine"] == pytest.approx(1.0)
    assert value["relative", "jaccard@10"] == pytest.approx(1.0)
    assert value["absolute", "jaccard@10"] == pytest.approx(1.0)  # neighbourhoods kept
    assert value["absolute", "cosine"] < 0.5
    assert value["absolute", "linear CKA"] == pytest.approx(1.0)


def test_words_beyond_the_paper_on_a_rotated_copy():
    """Relative codes and orthogonal translation see through a rotation exactly."""
    from skrelrep.experiments.words import beyond_the_paper_words

    rng = np.random.RandomState(0)
    A = rng.normal(size=(200, 10))
    Q, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    table = beyond_the_paper_words({"a": A, "b": 2 * A @ Q}, n_anchors=30, seeds=[0])
    rows = table.set_index(["method", "direction"])
    assert set(table["method"]) == {
        "relative (paper)",
        "relative, standardised (batch-norm)",
        "relative, cosine+euclidean+l1",
        "translation (orthogonal)",
    }
    for method in ["relative (paper)", "translation (orthogonal)"]:
        for direction in ["a→b", "b→a"]:
            assert rows.loc[(method, direction), "MRR"] == pytest.approx(1.0)
            assert rows.loc[(method, direction), "cosine"] == pytest.approx(1.0)


# Fabricated results: for each claim, one where it holds and one where it is false.
# Three encoders give six stitched pairs; chance is 0.10.
CHANCE = 0.1
PAIRS = [(e, d) for e in "abc" for d in "abc" if e != d]


def _stitching_frame(*, absolute=0.1, relative=0.95, same=0.97):
    """Tidy vision results; ``absolute`` and ``relative`` are per-pair stitched scores
    (a number or one per pair of :data:`PAIRS`), ``same`` every same-model score."""
    rows = []
    for space, stitched in [("absolute", absolute), ("relative", relative)]:
        stitched = np.broadcast_to(stitched, len(PAIRS))
        for name in "abc":
            rows.append((0, space, name, name, same, False))
        for (encoder, decoder), score in zip(PAIRS, stitched, strict=True):
            rows.append((0, space, encoder, decoder, score, True))
    return pd.DataFrame(
        rows, columns=["split", "space", "encoder", "decoder", "score", "stitched"]
    )


def _holds(findings):
    return [finding.holds for finding in findings]


def test_stitching_findings_hold_on_a_clear_result():
    findings = stitching_findings(_stitching_frame(), CHANCE, "toy")
    assert _holds(findings) == [True] * 4
    # Each claim states its rule.
    assert "chance + 0.10" in findings[0].claim
    assert "chance + 0.30" in findings[1].claim
    assert "≤ 0.05" in findings[2].claim
    assert "> 0.20" in findings[3].claim


@pytest.mark.parametrize(
    ("results", "false"),
    [
        # Absolute stitching at 0.5 is not "at chance", however far below relative.
        (dict(absolute=0.5), 0),
        # One relative pair close to chance.
        (dict(relative=[0.95] * 5 + [0.3]), 1),
        # Relative keeps 88 % of the same-model accuracy: "most", not within 0.05.
        (dict(relative=0.85), 2),
        # Relative beats absolute on average but not in one pair.
        (dict(absolute=[0.1] * 5 + [0.96]), 3),
    ],
)
def test_stitching_findings_say_no(results, false):
    findings = stitching_findings(_stitching_frame(**results), CHANCE, "toy")
    assert findings[false].holds is False


def test_stitching_findings_pair_stitched_with_their_decoder():
    frame = _stitching_frame()
    # Decoder "a" is weaker on its own encoder; its stitched pairs are held to it.
    frame.loc[~frame["stitched"] & (frame["decoder"] == "a"), "score"] = 0.8
    pairs = vision.stitched_pairs(frame)
    assert len(pairs) == len(PAIRS)
    assert set(pairs.loc[pairs["decoder"] == "a", "relative same"]) == {0.8}
    assert set(pairs.loc[pairs["decoder"] != "a", "relative same"]) == {0.97}


def _claims(*, absolute, relative, same, **options):
    """The stitching claims of three paired repeats, with the vision rules."""
    rules = dict(chance_margin=0.1, above_chance=0.3, kept_tolerance=0.05)
    return stitching_claims("toy", absolute, relative, same, CHANCE, **rules, **options)


@pytest.mark.parametrize(
    ("stitched", "holds"),
    [
        (dict(absolute=[0.1, 0.12, 0.08], relative=[0.95, 0.94, 0.96]), True),
        # Absolute stitching works; relative stitching is near chance in one repeat,
        # far below its same-model accuracy, and behind absolute stitching.
        (dict(absolute=[0.6, 0.62, 0.58], relative=[0.5, 0.3, 0.55]), False),
    ],
    ids=["clear-result", "against-the-paper"],
)
def test_stitching_claims_all_hold_or_all_say_no(stitched, holds):
    findings = _claims(**stitched, same=[0.96, 0.95, 0.96], advantage=0.2)
    assert _holds(findings) == [holds] * 4
    assert [f.claim.split(" (")[0] for f in findings] == [
        "toy: absolute stitching falls to chance",
        "toy: relative stitching stays far above chance",
        "toy: relative stitching keeps the same-model accuracy",
        "toy: relative stitching beats absolute stitching in every pair",
    ]


def test_stitching_claims_without_advantage_and_with_their_wording():
    findings = _claims(
        absolute=[0.1],
        relative=[0.9],
        same=[0.97],
        absolute_note="both 384-d",
        kept="keeps most of the same-model accuracy",
    )
    assert len(findings) == 3
    assert findings[0].claim.startswith("toy: absolute stitching (both 384-d) falls")
    assert findings[2].claim.startswith("toy: relative stitching keeps most of the")
    assert _holds(findings) == [True, True, False]  # 0.07 from the same model


def test_vision_summary_gives_mean_and_std_over_pairs():
    frame = _stitching_frame(relative=[0.9, 1.0, 0.9, 1.0, 0.9, 1.0]).assign(
        dataset="toy"
    )
    summary = vision.summarize(frame).set_index("space")
    assert summary.loc["relative", "stitched"] == pytest.approx(0.95)
    assert summary.loc["relative", "stitched std"] == pytest.approx(
        np.std([0.9, 1.0] * 3, ddof=1)
    )
    assert summary.loc["relative", "pairs"] == len(PAIRS)


def _anchor_table(changes=None):
    """Stitched accuracy per repeat: a curve that rises and saturates, the strategies
    alike, greedy slightly ahead; ``changes`` maps ``(strategy, count)`` to scores."""
    rows = []
    for strategy in [*anchors.STRATEGIES, anchors.GREEDY]:
        counts = anchors.COUNTS if strategy == "random" else anchors.STRATEGY_COUNTS
        for count in counts:
            base = 0.8 - 0.3 * np.exp(-count / 10) - (strategy != "random") * 0.005
            scores = base + np.array([0.0, 0.004, -0.004])
            if strategy == anchors.GREEDY:
                scores = scores + 0.015
            scores = (changes or {}).get((strategy, count), scores)
            rows += [(strategy, count, r, s) for r, s in enumerate(scores)]
    return pd.DataFrame(rows, columns=["strategy", "n_anchors", "repeat", "score"])


def test_anchor_findings_hold_on_a_clear_result():
    findings = anchor_findings(_anchor_table())
    assert len(findings) == 5
    assert _holds(findings) == [True] * 5
    assert "30 against 5" in findings[0].claim
    assert "300 against 100" in findings[1].claim


@pytest.mark.parametrize(
    ("changes", "false"),
    [
        # No growth from 5 to 30 anchors.
        ({("random", 5): [0.78, 0.79, 0.78]}, 0),
        # Still growing past 100 anchors.
        ({("random", 300): [0.83, 0.83, 0.84]}, 1),
        # k-means beats uniform anchors by 0.05 at 10 anchors.
        ({("kmeans", 10): [0.74, 0.75, 0.74]}, 2),
        # Per-class selection beats them at 30 anchors.
        ({("stratified", 30): [0.82, 0.82, 0.81]}, 3),
        # Greedy ahead on average but behind in one draw.
        ({(anchors.GREEDY, 10): [0.75, 0.75, 0.68]}, 4),
    ],
)
def test_anchor_findings_say_no(changes, false):
    findings = anchor_findings(_anchor_table(changes))
    assert findings[false].holds is False
    assert sum(not holds for holds in _holds(findings)) == 1


def test_anchor_summary_gives_mean_and_std_over_draws():
    summary = anchors.summarize(_anchor_table()).set_index("n_anchors")
    assert summary.loc[10, "random std"] == pytest.approx(0.004)
    assert summary.loc[10, "repeats"] == 3
    # Only uniform anchors run at 300: the other strategies are blank there.
    assert np.isnan(summary.loc[300, "kmeans"])


@pytest.mark.slow
def test_run_vision_quick():
    """The quick run's structure; its findings may say either."""
    result = vision.SPEC.run(vision.SPEC.quick, show_progress=False)
    datasets = result.results["dataset"].unique()
    assert len(result.findings) == 4 * len(datasets)
    assert all("(" in finding.claim for finding in result.findings)
    summary = result.tables["summary"]
    assert {"same model std", "stitched std", "pairs"} <= set(summary.columns)
    assert len(result.figures) == len(datasets)


@pytest.mark.slow
def test_run_anchors_quick():
    """The quick run's structure; its findings may say either."""
    result = anchors.SPEC.run(anchors.SPEC.quick, show_progress=False)
    assert len(result.findings) == 5
    assert all("mean advantage" in finding.claim for finding in result.findings)
    summary = result.tables["stitched accuracy"]
    assert list(summary["n_anchors"]) == list(anchors.SPEC.quick.counts)
    assert summary["repeats"].min() == 2
    assert set(result.figures) == {"anchors_count_strategy"}
