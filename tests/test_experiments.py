"""The experiments at a small scale: the paper's findings on tiny, seeded runs."""

import numpy as np
import pytest

from skrelrep.experiments._stitching import summarize_stitching
from skrelrep.experiments.anchors import anchor_sweep, run_anchors
from skrelrep.experiments.latent import latent_similarity
from skrelrep.experiments.vision import run_vision, seed_stitching


def test_seed_stitching_relative_beats_absolute(digits):
    X, y = digits
    frame = seed_stitching(
        X, y, dataset="digits", seeds=(0, 1), n_anchors=50, show_progress=False
    )
    assert len(frame) == 2 * 4
    summary = summarize_stitching(frame).set_index("space")
    assert summary.loc["relative", "stitched"] > 0.85
    assert summary.loc["absolute", "stitched"] < 0.4
    assert summary.loc["relative", "retained"] > 0.9


def test_anchor_sweep_more_anchors_help(digits):
    X, y = digits
    frame = anchor_sweep(
        X, y, counts=(1, 50), strategies=("random", "fps"), show_progress=False
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


@pytest.mark.slow
def test_run_vision_quick():
    result = run_vision(quick=True, show_progress=False)
    assert all(f.holds for f in result.findings), result.findings


@pytest.mark.slow
def test_run_anchors_quick():
    result = run_anchors(quick=True, show_progress=False)
    assert all(f.holds for f in result.findings), result.findings


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
