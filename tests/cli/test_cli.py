"""The command line end to end (quick path) and the report writer.

Its hostile inputs (bad --out and --seed, Ctrl-C, skipped experiments, crashes
mid-write) are in ``test_hostile_cli.py``.
"""

import subprocess
import sys

import pandas as pd
import pytest

from skrelrep.cli import REPRODUCIBLE, main
from skrelrep.experiments import (
    EXPERIMENTS,
    ExperimentResult,
    ExperimentSpec,
    Finding,
    get_experiment,
)
from skrelrep.report import markdown_table, write_report
from skrelrep.utils._atomic import atomic_write_text

DEMO_CLAIMS = [
    "digits: absolute stitching falls to chance",
    "digits: relative stitching stays far above chance",
    "digits: relative stitching keeps most of the same-model accuracy",
    "digits: relative stitching beats absolute stitching in every pair",
]


def _claim_rows(report, experiment):
    """``(claim without its rule, mark)`` of each row of ``experiment`` in the claims
    table of a report."""
    rows = [
        line.split(" | ")
        for line in report.splitlines()
        if line.startswith(f"| {experiment} | ")
    ]
    return [(cells[1].split(" (")[0], cells[2]) for cells in rows]


def test_demo_quick_writes_a_report(tmp_path, capsys):
    assert main(["demo", "--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "relative" in printed and "absolute" in printed
    report = (tmp_path / "report.md").read_text()
    assert "## The paper's claims, checked" in report
    assert "| demo | digits: relative stitching keeps most" in report
    rows = _claim_rows(report, "demo")
    assert [claim for claim, _ in rows] == DEMO_CLAIMS
    assert all(mark in {"yes", "**no**"} for _, mark in rows)
    # An outcome is asserted only where its margin is wide (quick runs of random
    # states 0-2): relative stitching 0.95-0.96 against a limit of 0.40, within 0.003
    # of the same model (tolerance 0.05), 0.83-0.86 ahead of absolute (margin 0.20).
    # Absolute stitching at 0.10-0.12 against its limit of 0.20 is left to the run;
    # test_demo_claims_can_say_no checks that each claim can fail.
    assert [mark for _, mark in rows[1:]] == ["yes"] * 3
    assert (tmp_path / "demo_digits_matrix.png").stat().st_size > 10_000
    # The decoder's description is read from the decoder the experiment uses.
    from skrelrep.experiments._stitching import default_decoder, describe_decoder

    assert f"decoders ({describe_decoder(default_decoder())})" in report
    results = pd.read_csv(tmp_path / "demo_results.csv")
    assert set(results["space"]) == {"absolute", "relative"}
    # 3 seeds: a 3 x 3 matrix per space.
    assert len(results) == 2 * 9
    relative = results[(results["space"] == "relative") & results["stitched"]]["score"]
    absolute = results[(results["space"] == "absolute") & results["stitched"]]["score"]
    assert relative.min() > 0.85 > 0.35 > absolute.max()


def test_demo_claims_can_say_no(tmp_path):
    """A fabricated demo result against the paper: every claim reads "no"."""
    from skrelrep.experiments.vision import stitching_findings

    # Absolute stitching works (0.6), relative stitching does not (0.35, same model
    # 0.97); chance 0.10.
    rows = [
        (0, space, encoder, decoder, 0.97 if encoder == decoder else stitched)
        for space, stitched in [("absolute", 0.6), ("relative", 0.35)]
        for encoder in "abc"
        for decoder in "abc"
    ]
    frame = pd.DataFrame(
        rows, columns=["split", "space", "encoder", "decoder", "score"]
    )
    frame["stitched"] = frame["encoder"] != frame["decoder"]
    result = ExperimentResult(
        name="demo",
        title="Zero-shot stitching across seeds (fabricated)",
        description="Fabricated.",
        tables={"results": frame},
        findings=stitching_findings(frame, 0.1, "digits"),
    )
    report = write_report([result], tmp_path).read_text()
    assert _claim_rows(report, "demo") == [(claim, "**no**") for claim in DEMO_CLAIMS]


def test_reproduce_latent_quick_as_a_module(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "skrelrep",
            "reproduce",
            "latent",
            "--quick",
            "--out",
            str(tmp_path),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Report:" in out.stdout
    report = (tmp_path / "report.md").read_text()
    assert "Latent similarity across seeds" in report
    assert (tmp_path / "latent_pictures.png").exists()


@pytest.mark.slow
def test_reproduce_all_quick(tmp_path):
    assert (
        main(["reproduce", "all", "--quick", "--out", str(tmp_path), "--no-progress"])
        == 0
    )
    report = (tmp_path / "report.md").read_text()
    for name in REPRODUCIBLE:
        assert f"| {name} |" in report


def test_every_experiment_is_a_spec_the_command_line_can_run():
    for name in EXPERIMENTS:
        spec = get_experiment(name)
        assert isinstance(spec, ExperimentSpec) and spec.name == name
        assert type(spec.quick) is type(spec.full) and spec.quick != spec.full
    # reproduce runs every experiment but the demo, in the registry's order.
    assert REPRODUCIBLE == [name for name in EXPERIMENTS if name != "demo"]
    assert "demo" in EXPERIMENTS and "demo" not in REPRODUCIBLE
    with pytest.raises(ValueError, match="Unknown experiment 'nope'"):
        get_experiment("nope")


def test_quick_chooses_the_quick_settings(tmp_path, monkeypatch, toy_result):
    from skrelrep import cli

    seen = []

    def run(settings, *, random_state, show_progress):
        seen.append((settings, random_state))
        return toy_result("demo")

    spec = EXPERIMENTS["demo"]
    monkeypatch.setattr(cli, "get_experiment", lambda name: _Fake(spec, run))
    for flags, settings in [(["--quick"], spec.quick), ([], spec.full)]:
        assert main(["demo", *flags, "--seed", "7", "--out", str(tmp_path)]) == 0
        assert seen.pop() == (settings, 7)


class _Fake:
    """A spec whose run is replaced."""

    def __init__(self, spec, run):
        self.quick, self.full, self.run = spec.quick, spec.full, run


def test_experiments_run_on_one_blas_thread():
    """Small models fit far faster on one BLAS thread; the limit is lifted after."""
    from dataclasses import replace

    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    seen = []

    def recording(run):
        seen.append(blas_threads())
        raise ImportError("toy: pip install toy")

    spec = replace(get_experiment("latent"), load=recording)
    with threadpool_limits(limits=2, user_api="blas"):
        before = blas_threads()
        result = spec.run(spec.quick)
        assert seen == [[1] * len(before)]
        assert blas_threads() == before == [2] * len(before)
    assert result.skipped == "toy: pip install toy"


def test_markdown_table_formats_and_escapes():
    frame = pd.DataFrame(
        {"name": ["a|b", "c"], "score": [0.12345, float("nan")], "n": [1, 2]}
    )
    assert markdown_table(frame).splitlines() == [
        "| name | score | n |",
        "| --- | --- | --- |",
        "| a\\|b | 0.123 | 1 |",
        "| c |  | 2 |",
    ]
    assert "1 more rows" in markdown_table(frame, max_rows=1)


def test_write_report_with_published_numbers_and_failed_claims(tmp_path):
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    result = ExperimentResult(
        name="toy",
        title="A toy experiment",
        description="Made up.",
        tables={
            "results": pd.DataFrame({"x": [1, 2]}),
            "summary": pd.DataFrame({"m": [0.5]}),
        },
        published=pd.DataFrame({"m": [0.7]}),
        figures={"toy_plot": figure},
        findings=[Finding("the toy works", False, "m=0.5 < 0.7")],
    )
    path = write_report([result], tmp_path, command="skrelrep toy", elapsed=3.2)
    text = path.read_text()
    assert "`skrelrep toy`" in text and "3 s" in text
    assert "| toy | the toy works | **no** | m=0.5 < 0.7 |" in text
    assert "**Published**" in text and "| 0.700 |" in text
    assert "![toy_plot](toy_plot.png)" in text
    assert (tmp_path / "toy_plot.png").exists()
    assert pd.read_csv(tmp_path / "toy_results.csv")["x"].tolist() == [1, 2]


# -- atomic files, and a finished run (its experiments replaced by toys) -----------


def test_atomic_write_makes_ordinary_files(tmp_path):
    # Same permissions as a file created by open() (mkstemp's would be 0o600).
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    atomic_write_text(tmp_path / "atomic.txt", "x")
    assert (tmp_path / "atomic.txt").stat().st_mode == plain.stat().st_mode


def test_a_finished_run_is_not_marked_partial(tmp_path, fake_experiments):
    assert main(["reproduce", "latent", "--out", str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text()
    assert "Partial" not in report and "Skipped" not in report
    assert "| latent | latent works | yes | m=0.5 |" in report


def test_help_documents_the_exit_statuses(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["reproduce", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "exit status:" in out
    for status in ("0", "2", "3", "130"):
        assert f"\n  {status} " in out
