"""The end-to-end training experiment: its claims on fabricated tables, a tiny run."""

import itertools

import pandas as pd
import pytest

from skrelrep.experiments import ExperimentResult, get_experiment
from skrelrep.experiments.training import (
    ABOVE_CHANCE_MARGIN,
    CHANCE_MARGIN,
    COST_MARGIN,
    STITCH_LOSS_MARGIN,
    summarize_training,
    training_findings,
)

SEEDS = ("seed 0", "seed 1", "seed 2")
COLUMNS = ["dataset", "space", "encoder", "decoder", "stitched", "accuracy"]
CHANCE = 0.1

# The five findings of one data set, in the order training_findings returns them.
COST, ABOVE, KEEPS, FALLS, BEATS = range(5)


def fabricate(same, stitched, *, dataset="digits", jitter=0.004):
    """A tidy table: ``same`` and ``stitched`` map a space to its accuracy level.

    Repeats differ a little (``jitter``), so that spreads are not zero.
    """
    rows = []
    for k, (space, encoder, decoder) in enumerate(
        itertools.product(("absolute", "relative"), SEEDS, SEEDS)
    ):
        is_stitched = encoder != decoder
        level = (stitched if is_stitched else same)[space]
        rows.append(
            (dataset, space, encoder, decoder, is_stitched, level + jitter * (k % 3))
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def findings_of(table, chance=CHANCE):
    return training_findings(table, {table["dataset"].iloc[0]: chance})


# What the paper claims: relative costs nothing, stitches; absolute does not stitch.
PAPER = dict(
    same={"absolute": 0.95, "relative": 0.95},
    stitched={"absolute": 0.10, "relative": 0.93},
)


def test_the_paper_s_outcome_makes_every_claim_hold():
    findings = findings_of(fabricate(**PAPER))
    assert len(findings) == 5
    assert all(finding.holds for finding in findings), findings
    for finding in findings:
        assert finding.claim.startswith("digits: ")
        assert "±" in finding.evidence  # repeats, with their spread


def test_a_costly_relative_layer_fails_the_cost_claim():
    same = {"absolute": 0.95, "relative": 0.95 - COST_MARGIN - 0.01}
    findings = findings_of(fabricate(same, PAPER["stitched"]))
    assert findings[COST].holds is False
    assert f"< {COST_MARGIN:.2f}" in findings[COST].claim
    # a relative net better than the absolute one costs nothing
    better = {"absolute": 0.90, "relative": 0.97}
    assert findings_of(fabricate(better, PAPER["stitched"]))[COST].holds is True


def test_relative_stitching_near_chance_fails_the_stitching_claims():
    stitched = {"absolute": 0.10, "relative": CHANCE + ABOVE_CHANCE_MARGIN - 0.05}
    findings = findings_of(fabricate(PAPER["same"], stitched))
    assert findings[ABOVE].holds is False
    assert findings[KEEPS].holds is False
    assert findings[BEATS].holds is False


def test_one_bad_stitched_pair_fails_far_above_chance():
    table = fabricate(**PAPER)
    bad = (table["space"] == "relative") & table["stitched"]
    table.loc[bad.idxmax(), "accuracy"] = CHANCE + 0.1
    assert findings_of(table)[ABOVE].holds is False


def test_stitching_that_loses_more_than_the_margin_is_not_close():
    stitched = {"absolute": 0.10, "relative": 0.95 - STITCH_LOSS_MARGIN - 0.02}
    findings = findings_of(fabricate(PAPER["same"], stitched))
    assert findings[KEEPS].holds is False
    assert findings[ABOVE].holds is True  # still far above chance


def test_absolute_nets_that_stitch_fail_the_chance_claims():
    stitched = {"absolute": CHANCE + CHANCE_MARGIN + 0.05, "relative": 0.93}
    findings = findings_of(fabricate(PAPER["same"], stitched))
    assert findings[FALLS].holds is False
    # relative still beats it by more than the margin: that claim can hold alone
    assert findings[BEATS].holds is True
    aligned = {"absolute": 0.90, "relative": 0.93}
    findings = findings_of(fabricate(PAPER["same"], aligned))
    assert findings[FALLS].holds is False
    assert findings[BEATS].holds is False


def test_relative_must_beat_absolute_in_every_pair():
    table = fabricate(**PAPER)
    pair = table["stitched"] & (table["encoder"] == "seed 0")
    pair &= table["decoder"] == "seed 1"
    table.loc[pair & (table["space"] == "absolute"), "accuracy"] = 0.99
    assert findings_of(table)[BEATS].holds is False


def test_findings_and_summary_per_data_set():
    table = pd.concat(
        [fabricate(**PAPER), fabricate(**PAPER, dataset="fashion-mnist")],
        ignore_index=True,
    )
    chances = {"digits": 0.1, "fashion-mnist": 0.11}
    findings = training_findings(table, chances)
    assert len(findings) == 10
    assert [f.claim.split(":")[0] for f in findings] == ["digits"] * 5 + [
        "fashion-mnist"
    ] * 5
    summary = summarize_training(table, chances)
    assert list(summary.columns) == [
        "dataset",
        "space",
        "pairs",
        "mean",
        "std",
        "n",
        "chance",
    ]
    assert len(summary) == 8
    rows = summary.set_index(["dataset", "space", "pairs"])
    assert rows.loc[("digits", "relative", "stitched"), "n"] == 6
    assert rows.loc[("digits", "absolute", "same model"), "n"] == 3
    assert rows.loc[("fashion-mnist", "relative", "same model"), "chance"] == 0.11
    assert rows.loc[("digits", "relative", "stitched"), "mean"] == pytest.approx(
        table.query("space == 'relative' and stitched")["accuracy"].mean()
    )


def test_the_cli_name_resolves_to_this_experiment():
    from skrelrep.experiments import training

    assert get_experiment("training") is training.SPEC


# -- the real pipeline, tiny ----------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_run(digits):
    pytest.importorskip("torch")
    pytest.importorskip("skorch")
    from skrelrep.experiments.training import score_nets, train_nets

    X, y = digits
    trained = train_nets(
        X[:400],
        y[:400],
        dataset="digits",
        seeds=(0, 1),
        n_anchors=30,
        max_epochs=3,
        n_components=8,
        hidden_units=(16,),
        random_state=0,
        show_progress=False,
    )
    return score_nets(trained)


def test_train_and_score_nets_end_to_end_on_tiny_data(tiny_run):
    frame = tiny_run
    assert list(frame.columns) == COLUMNS
    # 2 spaces × 2 encoders × 2 decoders, the diagonal same-model
    assert len(frame) == 8
    assert (frame["stitched"] == (frame["encoder"] != frame["decoder"])).all()
    assert set(frame["space"]) == {"absolute", "relative"}
    assert frame["accuracy"].between(0, 1).all()
    assert 0.05 < frame.attrs["chance"] < 0.2  # ten classes, roughly balanced


def test_training_result_structure(tiny_run):
    from matplotlib.figure import Figure

    from skrelrep.experiments._spec import Run
    from skrelrep.experiments.training import PUBLISHED_NOTE, SPEC

    result = SPEC.result([tiny_run], Run(SPEC.quick))
    assert isinstance(result, ExperimentResult)
    assert result.name == "training"
    assert result.skipped is None
    assert set(result.tables) == {"results", "summary"}
    assert result.results is result.tables["results"]
    assert len(result.tables["summary"]) == 4
    assert len(result.findings) == 5
    assert all(isinstance(f.holds, bool) for f in result.findings)
    assert set(result.figures) == {
        "training_digits_matrix",
        "training_same_vs_stitched",
    }
    assert all(isinstance(figure, Figure) for figure in result.figures.values())
    assert result.description.startswith("On the 1,797 scikit-learn digits (70%")
    assert "Fashion-MNIST" not in result.description
    assert result.description.endswith(PUBLISHED_NOTE)


def test_run_training_without_fashion_mnist_skips_it_with_a_note(monkeypatch):
    """The whole run, scaled down to seconds; Fashion-MNIST reported missing."""
    pytest.importorskip("skorch")
    import skrelrep.datasets
    from skrelrep.datasets._base import not_installed
    from skrelrep.experiments import training

    def missing(*args, **kwargs):
        raise not_installed("Fashion-MNIST", "apt-get install x", "test")

    monkeypatch.setattr(skrelrep.datasets, "load_fashion_mnist", missing)
    tiny = training.TrainingSettings(
        n_seeds=2, fashion_samples=0, n_anchors=20, max_epochs=1
    )
    result = training.SPEC.run(tiny, random_state=3, show_progress=False)
    assert result.skipped is None
    assert set(result.results["dataset"]) == {"digits"}
    assert set(result.results["encoder"]) == {"seed 3", "seed 4"}
    assert "Fashion-MNIST skipped" in result.description
    assert "apt-get install x" in result.description
    assert len(result.findings) == 5


@pytest.mark.slow
def test_run_training_quick():
    from skrelrep.experiments.training import SPEC

    result = SPEC.run(SPEC.quick, show_progress=False)
    assert result.skipped is None
    assert set(result.results["dataset"]) <= {"digits", "fashion-mnist"}
    assert len(result.findings) == 5 * result.results["dataset"].nunique()
