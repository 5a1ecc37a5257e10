"""The reconstruction-stitching experiment: its claims, its numbers, its pipeline."""

import itertools

import numpy as np
import pandas as pd
import pytest

from skrelrep.experiments import reconstruction
from skrelrep.experiments.reconstruction import (
    mean_image_mse,
    reconstruction_findings,
    score_autoencoders,
    summarize_reconstruction,
    train_autoencoders,
)

SEEDS = ("seed 0", "seed 1", "seed 2")
BASELINE = 0.1
CLAIMS = ("far better", "no better", "beats absolute", "keeps most")


def _table(*, relative_same, relative_stitched, absolute_same, absolute_stitched):
    """A fabricated tidy table: three seeds, every pair, MSE per pair.

    Each MSE argument is a number (every pair) or a dict ``(encoder, decoder) ->
    MSE`` for the stitched pairs, or ``decoder -> MSE`` for the same-model ones.
    """
    values = {
        ("relative", False): relative_same,
        ("relative", True): relative_stitched,
        ("absolute", False): absolute_same,
        ("absolute", True): absolute_stitched,
    }
    rows = []
    for space in ("absolute", "relative"):
        for encoder, decoder in itertools.product(SEEDS, SEEDS):
            stitched = encoder != decoder
            value = values[space, stitched]
            if isinstance(value, dict):
                value = value[(encoder, decoder) if stitched else decoder]
            rows.append(
                {
                    "dataset": "toy",
                    "space": space,
                    "encoder": encoder,
                    "decoder": decoder,
                    "stitched": stitched,
                    "mse": value,
                }
            )
    frame = pd.DataFrame(rows)
    frame["baseline"] = BASELINE
    frame["explained"] = 1 - frame["mse"] / BASELINE
    return frame


def _verdicts(frame):
    findings = reconstruction_findings(frame)
    assert len(findings) == len(CLAIMS)
    for finding, word in zip(findings, CLAIMS, strict=True):
        assert word in finding.claim
    return {word: finding.holds for finding, word in zip(findings, CLAIMS, strict=True)}


GOOD = dict(
    relative_same=0.01,
    relative_stitched=0.015,
    absolute_same=0.01,
    absolute_stitched=0.2,
)


def test_every_claim_holds_on_a_table_that_supports_it():
    assert _verdicts(_table(**GOOD)) == dict.fromkeys(CLAIMS, True)


def test_claims_state_their_rules_and_numbers():
    findings = reconstruction_findings(_table(**GOOD))
    assert "every repeat ≥ chance + 0.50" in findings[0].claim
    assert "mean ≤ chance + 0.10" in findings[1].claim
    assert "mean advantage > 0.50" in findings[2].claim
    assert "≤ 0.25" in findings[3].claim
    # relative stitched explains 1 - 0.015 / 0.1 = 0.85 of the mean-image error
    assert "0.850" in findings[0].evidence
    assert "stitched / same-model MSE 1.50" in findings[3].evidence


def test_relative_stitching_near_the_mean_image_in_one_pair_says_no():
    # One pair explains 1 - 0.06 / 0.1 = 0.4 < 0.5; the mean is still high.
    stitched = {pair: 0.015 for pair in itertools.permutations(SEEDS, 2)}
    stitched["seed 2", "seed 0"] = 0.06
    verdicts = _verdicts(_table(**{**GOOD, "relative_stitched": stitched}))
    assert verdicts["far better"] is False


def test_absolute_stitching_that_reconstructs_says_no():
    # Absolute stitched at half the mean-image error: explained 0.5 > 0.1.
    verdicts = _verdicts(_table(**{**GOOD, "absolute_stitched": 0.05}))
    assert verdicts["no better"] is False
    assert verdicts["beats absolute"] is False  # advantage 0.35 < 0.5


def test_absolute_stitching_as_good_as_relative_in_one_pair_says_no():
    # A large mean advantage, but one pair where absolute equals relative.
    stitched = {pair: 0.3 for pair in itertools.permutations(SEEDS, 2)}
    stitched["seed 0", "seed 1"] = 0.015
    verdicts = _verdicts(_table(**{**GOOD, "absolute_stitched": stitched}))
    assert verdicts["no better"] is True
    assert verdicts["beats absolute"] is False


def test_relative_stitching_that_loses_much_of_the_gain_says_no():
    # Same model explains 0.9, stitched 0.6: a third of the gain is lost, although
    # stitched is still far better than the mean image.
    verdicts = _verdicts(_table(**{**GOOD, "relative_stitched": 0.04}))
    assert verdicts["far better"] is True
    assert verdicts["keeps most"] is False


def test_a_decoder_with_no_gain_over_the_mean_image_keeps_nothing():
    # A same-model net no better than the mean image has no quality to keep.
    verdicts = _verdicts(
        _table(**{**GOOD, "relative_same": BASELINE, "relative_stitched": BASELINE})
    )
    assert verdicts["keeps most"] is False
    assert verdicts["far better"] is False


def test_claims_are_checked_per_dataset():
    good = _table(**GOOD)
    bad = _table(**{**GOOD, "absolute_stitched": 0.05}).assign(dataset="other")
    findings = reconstruction_findings(pd.concat([good, bad], ignore_index=True))
    assert len(findings) == 2 * len(CLAIMS)
    assert all(f.claim.startswith("toy:") for f in findings[:4])
    assert [f.holds for f in findings[4:]] == [True, False, False, True]


def test_summary_gives_mean_and_std_over_pairs():
    stitched = dict(
        zip(itertools.permutations(SEEDS, 2), [1, 2, 3, 4, 5, 6], strict=True)
    )
    frame = _table(**{**GOOD, "relative_stitched": stitched})
    summary = summarize_reconstruction(frame).set_index(["space", "pair"])
    row = summary.loc["relative", "stitched"]
    assert row["MSE ×100 mean"] == pytest.approx(350)
    assert row["MSE ×100 std"] == pytest.approx(100 * np.std(range(1, 7), ddof=1))
    assert row["n"] == 6
    assert summary.loc["absolute", "same model"]["n"] == 3
    assert row["mean image MSE ×100"] == pytest.approx(100 * BASELINE)


def test_mean_image_mse_matches_an_independent_computation():
    rng = np.random.RandomState(0)
    X_train, X_test = rng.uniform(size=(30, 5)), rng.uniform(size=(12, 5))
    mean = [sum(X_train[i, j] for i in range(30)) / 30 for j in range(5)]
    expected = sum(
        (X_test[i, j] - mean[j]) ** 2 for i in range(12) for j in range(5)
    ) / (12 * 5)
    assert mean_image_mse(X_train, X_test) == pytest.approx(expected)


@pytest.fixture(scope="module")
def tiny_digits():
    from sklearn.datasets import load_digits

    X = load_digits().data[:240] / 16.0
    return X[:180], X[180:]


def test_tiny_run_has_every_pair_and_consistent_numbers(tiny_digits):
    pytest.importorskip("skorch")
    X_train, X_test = tiny_digits
    nets = train_autoencoders(
        X_train, dataset="digits", seeds=(3, 4), n_anchors=12, max_epochs=2
    )
    frame, examples = score_autoencoders(nets, X_train, X_test, dataset="digits")
    assert list(frame.columns) == [
        "dataset",
        "space",
        "encoder",
        "decoder",
        "stitched",
        "mse",
        "baseline",
        "explained",
    ]
    assert len(frame) == 8  # two spaces × 2 encoders × 2 decoders
    assert frame.groupby("space")["stitched"].sum().tolist() == [2, 2]
    assert (frame["stitched"] == (frame["encoder"] != frame["decoder"])).all()
    assert np.allclose(frame["baseline"], mean_image_mse(X_train, X_test))
    assert np.allclose(frame["explained"], 1 - frame["mse"] / frame["baseline"])
    assert np.isfinite(frame["mse"]).all() and (frame["mse"] > 0).all()
    assert list(examples) == [
        "original",
        "same absolute",
        "same relative",
        "stitched absolute",
        "stitched relative",
    ]
    assert np.array_equal(examples["original"], X_test[:8].astype(np.float32))
    for images in examples.values():
        assert images.shape == (8, 64)


def test_relative_nets_of_every_seed_share_the_anchor_images(tiny_digits):
    pytest.importorskip("skorch")
    X_train, _ = tiny_digits
    indices = np.array([5, 17, 2, 40, 99])
    nets = [
        reconstruction._autoencoders(
            n_anchors=5, anchor_indices=indices, max_epochs=1, seed=seed
        )["relative"].fit(X_train)
        for seed in (0, 1)
    ]
    for net in nets:
        assert np.array_equal(net.anchor_indices_, indices)
    first, second = (net.module_.layers[0].weight.detach().numpy() for net in nets)
    assert not np.allclose(first, second)  # the seed changes the weights


def test_stitched_relative_mse_is_the_decoder_reading_the_other_encoder(tiny_digits):
    # An independent route to a stitched MSE: the other net's relative code fed to
    # this net's decoder (the same anchors make the codes comparable).
    pytest.importorskip("skorch")
    X_train, X_test = tiny_digits
    indices = np.arange(0, 180, 15)
    a, b = (
        reconstruction._autoencoders(
            n_anchors=len(indices), anchor_indices=indices, max_epochs=2, seed=seed
        )["relative"].fit(X_train)
        for seed in (0, 1)
    )
    via_swap = a.with_encoder(b)
    direct = a.inverse_transform(b.transform(X_test))
    swapped = via_swap.inverse_transform(via_swap.transform(X_test))
    np.testing.assert_allclose(swapped, direct, rtol=1e-5, atol=1e-6)


def test_run_reconstruction_end_to_end_on_tiny_settings():
    pytest.importorskip("skorch")
    pytest.importorskip("matplotlib")
    tiny = reconstruction.ReconstructionSettings(
        digits=reconstruction.Budget(n_seeds=2, n_anchors=10, max_epochs=1),
        fashion=reconstruction.Budget(n_seeds=2, n_anchors=10, max_epochs=1),
        fashion_train=120,
        fashion_test=40,
    )
    result = reconstruction.SPEC.run(tiny, random_state=1)
    datasets = list(dict.fromkeys(result.results["dataset"]))
    assert datasets[0] == "digits"
    assert set(result.tables) == {"results", "summary"}
    assert len(result.findings) == 4 * len(datasets)
    assert "reconstruction_mse" in result.figures
    assert "reconstruction_digits_examples" in result.figures
    if "fashion-mnist" in datasets:
        assert "reconstruction_fashion_mnist_examples" in result.figures
    else:
        assert "Fashion-MNIST skipped" in result.description
    summary = result.tables["summary"]
    assert len(summary) == 4 * len(datasets)
    assert {"MSE ×100 mean", "MSE ×100 std", "explained mean"} <= set(summary)
    # The seeds come from random_state.
    assert set(result.results["encoder"]) == {"seed 1", "seed 2"}
    import matplotlib.pyplot as plt

    for figure in result.figures.values():
        plt.close(figure)


@pytest.mark.slow
def test_quick_run_structure():
    pytest.importorskip("skorch")
    result = reconstruction.SPEC.run(reconstruction.SPEC.quick)
    assert result.skipped is None
    assert len(result.findings) % 4 == 0 and result.findings
    assert {f.holds for f in result.findings} <= {True, False}
