"""The command line on hostile input: a clear error or a report that says what it has.

Bad arguments and an unusable ``--out`` stop the run before any work; Ctrl-C, a
skipped experiment and crashes mid-write leave a report that says what finished. The
table is shown in the user guide (:ref:`hostile_inputs`); ``tests/hostile.py``
describes the format.
"""

import os

import pandas as pd
import pytest
from hostile import case, check_every_case_is_tested

from skrelrep.cli import REPRODUCIBLE, main
from skrelrep.datasets import DataNotInstalledError
from skrelrep.experiments import ExperimentResult
from skrelrep.report import write_result_files
from skrelrep.utils._atomic import atomic_write, atomic_write_text

CASES = [
    (
        "out-empty",
        '--out given as an empty string (--out "")',
        "exit status 2 before any work (it used to write into the current folder "
        "without a word)",
    ),
    (
        "out-is-a-file",
        "--out naming an existing file",
        "exit status 2 before any work, with one error line; the file is untouched",
    ),
    (
        "out-uncreatable",
        "--out that cannot be created (below a file)",
        "exit status 2 before any work: cannot create the directory",
    ),
    (
        "out-unwritable",
        "--out a folder in which no file can be created",
        "exit status 2 before any work: cannot write in the directory, and why",
    ),
    (
        "bad-seed",
        "--seed negative, fractional, not a number, or above 2147483647",
        "exit status 2 with the usage line: must be an integer from 0 to 2147483647, "
        "and the value given",
    ),
    (
        "unknown-experiment",
        "reproduce with an experiment name that does not exist",
        "exit status 2: argparse's invalid choice, with the names there are",
    ),
    (
        "no-command",
        "no command, or reproduce without an experiment name",
        "exit status 2: argparse's usage and the argument that is required",
    ),
    (
        "interrupted",
        "Ctrl-C during an experiment of a run of several",
        "exit status 130; report.md covers the experiments finished, marked partial "
        "with those not finished (an older report is replaced at the start); one "
        "line on stderr; no temporary file left",
    ),
    (
        "interrupted-in-training",
        "Ctrl-C while the demo's scikit-learn MLPs train (they swallow "
        "KeyboardInterrupt)",
        "the demo still stops: exit status 130 and a partial report of 0 of 1 "
        "experiments, no result files",
    ),
    (
        "experiment-error",
        "an experiment that raises an exception",
        "report.md is marked partial (the run stopped on an error), one line on "
        "stderr, and the exception propagates (a traceback, exit status 1)",
    ),
    (
        "skipped-experiment",
        "an experiment skipped because an optional data set or package is missing",
        "the others run; exit status 3; the install command is printed and "
        "report.md says what was skipped",
    ),
    (
        "missing-data-set",
        "the real words experiment with its corpus reported missing by the loader",
        "skipped: exit status 3 with the loader's install command",
    ),
    (
        "skip-reasons",
        "a skip whose error names an install command, or none",
        "the reason and the install command are read from the error; no install "
        "line when it names none",
    ),
    (
        "crash-mid-write",
        "an error or Ctrl-C halfway through writing a file",
        "the old file is kept whole; no temporary file is left",
    ),
    (
        "crash-saving-a-figure",
        "a figure whose saving fails halfway (disk full)",
        "the old PNG is kept, the tables are written, and the error propagates",
    ),
]


def test_every_case_is_tested():
    check_every_case_is_tested(globals(), CASES)


KJV_INSTALL = "apt-get install -y --no-install-recommends sword-text-kjv diatheke"


def _skipped_result(name):
    # As the experiments' runner builds it from the loader's error.
    error = DataNotInstalledError(
        "The King James Bible is not installed (no diatheke). Install it with:\n"
        f"    {KJV_INSTALL}"
    )
    return ExperimentResult.skip(name, f"Toy {name}", error)


@case("out-empty")
def test_out_empty_exits_2(tmp_path, fake_experiments, capsys, monkeypatch):
    calls, _ = fake_experiments
    monkeypatch.chdir(tmp_path)
    for empty in ("", "  "):
        with pytest.raises(SystemExit) as exit_info:
            main(["demo", "--quick", "--out", empty])
        assert exit_info.value.code == 2
    assert calls == []
    assert list(tmp_path.iterdir()) == []
    assert "--out" in capsys.readouterr().err


@case("out-is-a-file")
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


@case("out-uncreatable")
def test_out_that_cannot_be_created_exits_2(tmp_path, fake_experiments, capsys):
    calls, _ = fake_experiments
    (tmp_path / "a-file").write_text("")
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--out", str(tmp_path / "a-file" / "report")])
    assert exit_info.value.code == 2
    assert calls == []
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "cannot create the directory" in err


@case("out-unwritable")
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


@case("bad-seed")
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


@case("unknown-experiment")
def test_bad_arguments_exit_with_usage(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["reproduce", "everything"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


@case("no-command")
def test_no_command_exits_with_usage(capsys):
    for argv, missing in [([], "command"), (["reproduce"], "experiment")]:
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith("usage: skrelrep")
        assert f"error: the following arguments are required: {missing}" in err


@case("interrupted")
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
    total = len(REPRODUCIBLE)
    assert f"**Partial: 1 of {total} experiments** (the run is still going" in running
    report = (tmp_path / "report.md").read_text()
    assert f"**Partial: 1 of {total} experiments** (the run was interrupted" in report
    assert f"not finished: {', '.join(REPRODUCIBLE[1:])}" in report
    assert f"| {first} | {first} works | yes | m=0.5 |" in report
    assert f"## Toy {first}" in report and f"Toy {second}" not in report
    assert pd.read_csv(tmp_path / f"{first}_results.csv")["x"].tolist() == [1, 2]
    assert not list(tmp_path.glob(f"{second}_*"))
    assert not list(tmp_path.glob(".*"))  # no temporary file left
    out = capsys.readouterr()
    assert "Report:" not in out.out
    assert out.err.strip().splitlines() == [
        f"interrupted: 1 of {total} experiments finished; partial report at "
        f"{tmp_path / 'report.md'}"
    ]


@case("interrupted-in-training")
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


@case("experiment-error")
def test_an_experiment_error_leaves_a_partial_report(
    tmp_path, fake_experiments, capsys
):
    calls, behaviour = fake_experiments
    first, second = REPRODUCIBLE[:2]

    def broken(name):
        raise RuntimeError("the experiment broke")

    behaviour[second] = broken
    with pytest.raises(RuntimeError, match="the experiment broke"):
        main(["reproduce", "all", "--quick", "--out", str(tmp_path)])
    assert calls == [first, second]
    report = (tmp_path / "report.md").read_text()
    total = len(REPRODUCIBLE)
    assert (
        f"**Partial: 1 of {total} experiments** (the run stopped on an error" in report
    )
    assert f"| {first} | {first} works | yes | m=0.5 |" in report
    assert not list(tmp_path.glob(".*"))  # no temporary file left
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: 1 of {total} experiments finished; partial report at "
        f"{tmp_path / 'report.md'}"
    ]


@case("skipped-experiment")
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


@case("missing-data-set")
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


@case("skip-reasons")
def test_skipped_results_carry_the_reason_and_install_command(toy_result):
    assert toy_result("toy").skipped is None and toy_result("toy").install is None
    skipped = _skipped_result("words")
    assert skipped.skipped.startswith("The King James Bible is not installed")
    assert skipped.install == KJV_INSTALL
    error = ImportError("Figures need matplotlib: pip install 'skrelrep[report]'.")
    built = ExperimentResult.skip("vision", "Vision", error)
    assert built.skipped == str(error) and built.description == ""
    assert not built.tables and not built.findings and not built.figures
    assert built.install == "pip install 'skrelrep[report]'"
    assert ExperimentResult.skip("x", "X", "no reason given").install is None


@case("crash-mid-write")
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


@case("crash-saving-a-figure")
def test_result_files_are_written_atomically(tmp_path, toy_result):
    class CrashingFigure:
        def savefig(self, path, **kwargs):
            with open(path, "wb") as handle:
                handle.write(b"\x89PN")  # a part of a PNG, then the crash
            raise OSError("disk full")

    (tmp_path / "toy_plot.png").write_bytes(b"old png")
    result = toy_result("toy")
    result.figures = {"toy_plot": CrashingFigure()}
    with pytest.raises(OSError, match="disk full"):
        write_result_files(result, tmp_path)
    assert (tmp_path / "toy_plot.png").read_bytes() == b"old png"
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "toy_plot.png",
        "toy_results.csv",
        "toy_summary.csv",
    ]
