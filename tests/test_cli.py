"""The command line end to end (quick path) and the report writer."""

import os
import subprocess
import sys

import pandas as pd
import pytest

from skrelrep import cli
from skrelrep.cli import REPRODUCIBLE, main
from skrelrep.datasets import DataNotInstalledError
from skrelrep.experiments import EXPERIMENTS, ExperimentResult, Finding, get_experiment
from skrelrep.report import markdown_table, write_report, write_result_files
from skrelrep.utils._atomic import atomic_write, atomic_write_text


def test_demo_quick_writes_a_report(tmp_path, capsys):
    assert main(["demo", "--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "relative" in printed and "absolute" in printed
    report = (tmp_path / "report.md").read_text()
    assert "## The paper's claims, checked" in report
    assert "| demo | digits: relative stitching keeps most" in report
    assert "**no**" not in report  # both claims hold on the quick run
    assert (tmp_path / "demo_digits_matrix.png").stat().st_size > 10_000
    results = pd.read_csv(tmp_path / "demo_results.csv")
    assert set(results["space"]) == {"absolute", "relative"}
    # 3 seeds: a 3 x 3 matrix per space.
    assert len(results) == 2 * 9
    relative = results[(results["space"] == "relative") & results["stitched"]]["score"]
    absolute = results[(results["space"] == "absolute") & results["stitched"]]["score"]
    assert relative.min() > 0.85 > 0.35 > absolute.max()


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
    for name in ["words", "vision", "text", "crosslingual", "anchors", "latent"]:
        assert f"| {name} |" in report


def test_bad_arguments_exit_with_usage(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["reproduce", "everything"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_every_experiment_is_importable():
    for name in EXPERIMENTS:
        assert callable(get_experiment(name))
    with pytest.raises(ValueError, match="Unknown experiment 'nope'"):
        get_experiment("nope")


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


# -- a command line safe to interrupt, that reports only what it had ----------------

KJV_INSTALL = "apt-get install -y --no-install-recommends sword-text-kjv diatheke"


def _toy_result(name):
    return ExperimentResult(
        name=name,
        title=f"Toy {name}",
        description=f"The {name} toy.",
        tables={
            "results": pd.DataFrame({"x": [1, 2]}),
            "summary": pd.DataFrame({"m": [0.5]}),
        },
        findings=[Finding(f"{name} works", True, "m=0.5")],
    )


def _skipped_result(name):
    # As the experiments build it: ``description=f"Skipped: {exc}"``.
    error = DataNotInstalledError(
        "The King James Bible is not installed (no diatheke). Install it with:\n"
        f"    {KJV_INSTALL}"
    )
    return ExperimentResult(
        name=name, title=f"Toy {name}", description=f"Skipped: {error}"
    )


@pytest.fixture
def fake_experiments(monkeypatch):
    """Replace the experiments: ``behaviour[name]`` is called with the name (default:
    a toy result); the names run are recorded in ``calls``."""
    calls, behaviour = [], {}

    def get(name):
        def run(*, quick, random_state, show_progress):
            calls.append(name)
            return behaviour.get(name, _toy_result)(name)

        return run

    monkeypatch.setattr(cli, "get_experiment", get)
    return calls, behaviour


def test_out_an_existing_file_exits_2_before_any_work(
    tmp_path, fake_experiments, capsys
):
    calls, _ = fake_experiments
    target = tmp_path / "a-file"
    target.write_text("keep me")
    with pytest.raises(SystemExit) as exit_info:
        main(["reproduce", "all", "--quick", "--out", str(target)])
    assert exit_info.value.code == 2
    assert calls == []
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"skrelrep reproduce: error: --out {target}: exists and is not a directory"
    ]
    assert target.read_text() == "keep me"


def test_out_that_cannot_be_created_exits_2(tmp_path, fake_experiments, capsys):
    calls, _ = fake_experiments
    (tmp_path / "a-file").write_text("")
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--out", str(tmp_path / "a-file" / "report")])
    assert exit_info.value.code == 2
    assert calls == []
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "cannot create the directory" in err


def test_out_where_no_file_can_be_created_exits_2(
    tmp_path, fake_experiments, monkeypatch, capsys
):
    # A read-only folder, for any user (root writes even where chmod forbids it, so
    # chmod cannot stand for it here): the probe file cannot be created.
    calls, _ = fake_experiments
    os_open = os.open

    def refused(path, *args, **kwargs):
        if os.path.basename(path).startswith(".write-test."):
            raise PermissionError(13, "Permission denied", str(path))
        return os_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refused)
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert calls == []
    assert capsys.readouterr().err == (
        f"skrelrep demo: error: --out {tmp_path}: cannot write in the directory "
        "(Permission denied)\n"
    )


@pytest.mark.parametrize("crash", [RuntimeError, KeyboardInterrupt])
def test_atomic_write_keeps_the_old_file_on_a_crash(tmp_path, crash):
    target = tmp_path / "table.csv"
    target.write_text("old")

    def half_a_write(temporary):
        temporary.write_text("ne")  # part of "new", then the crash
        raise crash

    with pytest.raises(crash):
        atomic_write(target, half_a_write)
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left
    assert atomic_write_text(target, "new") == target
    assert target.read_text() == "new"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_write_makes_ordinary_files(tmp_path):
    # Same permissions as a file created by open() (mkstemp's would be 0o600).
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    atomic_write_text(tmp_path / "atomic.txt", "x")
    assert (tmp_path / "atomic.txt").stat().st_mode == plain.stat().st_mode


def test_result_files_are_written_atomically(tmp_path):
    class CrashingFigure:
        def savefig(self, path, **kwargs):
            with open(path, "wb") as handle:
                handle.write(b"\x89PN")  # a part of a PNG, then the crash
            raise OSError("disk full")

    (tmp_path / "toy_plot.png").write_bytes(b"old png")
    result = _toy_result("toy")
    result.figures = {"toy_plot": CrashingFigure()}
    with pytest.raises(OSError, match="disk full"):
        write_result_files(result, tmp_path)
    assert (tmp_path / "toy_plot.png").read_bytes() == b"old png"
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "toy_plot.png",
        "toy_results.csv",
        "toy_summary.csv",
    ]


def test_interrupt_leaves_a_partial_report(tmp_path, fake_experiments, capsys):
    calls, behaviour = fake_experiments
    first, second = REPRODUCIBLE[:2]
    (tmp_path / "report.md").write_text("# an old, complete report")
    seen_while_running = []

    def interrupted(name):
        # The first experiment's files and a report of it exist while this one runs.
        seen_while_running.append((tmp_path / "report.md").read_text())
        assert (tmp_path / f"{first}_results.csv").exists()
        raise KeyboardInterrupt

    behaviour[second] = interrupted
    status = main(["reproduce", "all", "--quick", "--out", str(tmp_path)])
    assert status == 130
    assert calls == [first, second]
    running = seen_while_running[0]
    assert "**Partial: 1 of 6 experiments** (the run is still going" in running
    report = (tmp_path / "report.md").read_text()
    assert "**Partial: 1 of 6 experiments** (the run was interrupted" in report
    assert f"not finished: {', '.join(REPRODUCIBLE[1:])}" in report
    assert f"| {first} | {first} works | yes | m=0.5 |" in report
    assert f"## Toy {first}" in report and f"Toy {second}" not in report
    assert pd.read_csv(tmp_path / f"{first}_results.csv")["x"].tolist() == [1, 2]
    assert not list(tmp_path.glob(f"{second}_*"))
    assert not list(tmp_path.glob(".*"))  # no temporary file left
    out = capsys.readouterr()
    assert "Report:" not in out.out
    assert out.err.strip().splitlines() == [
        f"interrupted: 1 of 6 experiments finished; partial report at "
        f"{tmp_path / 'report.md'}"
    ]


def test_a_finished_run_is_not_marked_partial(tmp_path, fake_experiments):
    assert main(["reproduce", "latent", "--out", str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text()
    assert "Partial" not in report and "Skipped" not in report
    assert "| latent | latent works | yes | m=0.5 |" in report


def test_ctrl_c_while_the_encoders_train_stops_the_demo(tmp_path, monkeypatch):
    # scikit-learn's MLP swallows a KeyboardInterrupt; the demo must still stop.
    from sklearn.neural_network import MLPClassifier

    calls = []

    def interrupted(self, *args, **kwargs):
        calls.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(MLPClassifier, "_update_no_improvement_count", interrupted)
    assert main(["demo", "--quick", "--no-progress", "--out", str(tmp_path)]) == 130
    assert calls == [1]
    report = (tmp_path / "report.md").read_text()
    assert "**Partial: 0 of 1 experiments** (the run was interrupted" in report
    assert "## The paper's claims, checked" not in report
    assert not list(tmp_path.glob("demo_*"))


def test_a_skipped_experiment_is_printed_and_fails_the_run(
    tmp_path, fake_experiments, capsys
):
    calls, behaviour = fake_experiments
    behaviour["words"] = _skipped_result
    status = main(["reproduce", "all", "--quick", "--out", str(tmp_path)])
    assert status == 3
    assert calls == REPRODUCIBLE  # the others still ran
    out = capsys.readouterr()
    assert "[skipped] The King James Bible is not installed" in out.out
    assert KJV_INSTALL in out.out
    assert "Report:" in out.out
    assert out.err.splitlines() == [f"skipped: words (install with: {KJV_INSTALL})"]
    report = (tmp_path / "report.md").read_text()
    assert "Partial" not in report
    assert "**Skipped: words** (not installed; see below)." in report
    for name in REPRODUCIBLE[1:]:
        assert f"| {name} | {name} works | yes | m=0.5 |" in report


def test_a_missing_data_set_skips_the_real_experiment(tmp_path, monkeypatch, capsys):
    # The words experiment as shipped, its corpus reported missing by the loader.
    import skrelrep.datasets

    def missing(*args, **kwargs):
        error = DataNotInstalledError(
            "The SWORD Bible reader is not installed (no 'diatheke' command on the "
            f"PATH). Install it with:\n    {KJV_INSTALL}"
        )
        error.install = KJV_INSTALL
        raise error

    monkeypatch.setattr(skrelrep.datasets, "load_word_corpus", missing)
    status = main(
        ["reproduce", "words", "--quick", "--no-progress", "--out", str(tmp_path)]
    )
    assert status == 3
    out = capsys.readouterr()
    assert "[skipped] The SWORD Bible reader is not installed" in out.out
    assert f"skipped: words (install with: {KJV_INSTALL})" in out.err
    assert "Skipped: The SWORD Bible reader" in (tmp_path / "report.md").read_text()


def test_skipped_results_carry_the_reason_and_install_command():
    assert _toy_result("toy").skipped is None and _toy_result("toy").install is None
    skipped = _skipped_result("words")
    assert skipped.skipped.startswith("The King James Bible is not installed")
    assert skipped.install == KJV_INSTALL
    error = ImportError("Figures need matplotlib: pip install 'skrelrep[report]'.")
    built = ExperimentResult.skip("vision", "Vision", error)
    assert built.description == f"Skipped: {error}"
    assert built.install == "pip install 'skrelrep[report]'"
    assert ExperimentResult.skip("x", "X", "no reason given").install is None


@pytest.mark.parametrize("seed", ["-1", "1.5", "abc", str(2**40)])
def test_bad_seeds_exit_with_usage(seed, fake_experiments, capsys):
    calls, _ = fake_experiments
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--seed", seed])
    assert exit_info.value.code == 2
    assert calls == []
    err = capsys.readouterr().err
    assert err.startswith("usage: skrelrep demo")
    assert "error: argument --seed: must be an integer from 0 to" in err
    assert repr(seed) in err


def test_help_documents_the_exit_statuses(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["reproduce", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "exit status:" in out
    for status in ("0", "2", "3", "130"):
        assert f"\n  {status} " in out
