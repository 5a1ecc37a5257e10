"""The command line on hostile input: a clear error or a report that says what it has.

Bad arguments and an unusable ``--out`` stop the run before any work; Ctrl-C, a
skipped experiment and crashes mid-write leave a report that says what finished. The
table is shown in the user guide (:ref:`hostile_inputs`); ``tests/hostile.py``
describes the format.
"""

import dataclasses
import json
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hostile import case, check_every_case_is_tested

from skrelrep import _compare_command
from skrelrep.cli import REPRODUCIBLE, main
from skrelrep.datasets import DataNotInstalledError
from skrelrep.experiments import ExperimentResult
from skrelrep.metrics import compare_spaces
from skrelrep.plotting import plot_permutation_nulls
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
    (
        "compare-parquet-pandas-index",
        "compare on Parquet files written from filtered pandas frames (the index "
        "stored as __index_level_0__), or with a named index",
        "the index, named in pandas' metadata, is never read as data: the measures "
        "equal those of the same rows saved as .npy, and the console says the index "
        "is not data; choosing the index as FILE.parquet:COLUMN exits 2",
    ),
    (
        "compare-index-column",
        "an index or ids stored as a column: a CSV file from pandas with a named "
        "index, or with index=True and no header, a Parquet file with an id column",
        "exit status 2 naming the column of increasing whole numbers, which is never "
        "a feature; files of whole numbers only (counts) are read as they are",
    ),
    (
        "compare-parquet-usual-layout",
        "compare on a Parquet file of id, text and one embedding list column; on two "
        "list columns; with --anchors above half the items",
        "the list column is found (FILE.parquet:COLUMN chooses among several; "
        "without it, exit 2 naming the candidates and the syntax); a capped "
        "--anchors is said on the console",
    ),
    (
        "compare-missing-labels",
        "--labels with a NaN, a Parquet null, an empty line or NA among the labels",
        "exit status 2 before any computation: one line naming the labels file and "
        "the row or line of the first missing label",
    ),
    (
        "compare-continuous-labels",
        "--labels with fractional numbers (a continuous target), or with every "
        "label different",
        "exit status 2: labels name classes of at least 2 items, with the first "
        "fractional value and its row",
    ),
    (
        "compare-one-anchor",
        "compare --anchors 1 (or 0)",
        "exit status 2 with the usage line before any file is read: at least 2 "
        "anchors (centred cosines need two)",
    ),
    (
        "compare-huge-permutations",
        "compare --permutations 1000000000000 or 1e20",
        "exit status 2 with the usage line before any file is read, naming the "
        "bound (100000)",
    ),
    (
        "compare-integer-syntax",
        "compare's integer options written 5_0, +5, 5.0 or with spaces",
        "exit status 2 with the usage line: integers are plain decimal digits "
        "(int() would read 5_0 as 50)",
    ),
    (
        "compare-identical-rows",
        "compare on a file whose rows are all identical (nulls spanning about 1e-17)",
        "the report is written with every figure (the null drawn as one bar); the "
        "warning about the anchors is on stderr and in report.md",
    ),
    (
        "compare-truncated-npy",
        "a .npy file cut short (being written, or its header cut)",
        "exit status 2 with NumPy's own reason (not fully written); only a pickle or "
        "an object array is reported as refused",
    ),
    (
        "compare-csv-bad-first-line",
        "a CSV file whose first line has an empty cell, NA or a typo",
        "the line is data, not a header: exit status 2 naming that file, line 1 and "
        "the column, never the other file",
    ),
    (
        "compare-csv-lines",
        "CSV files with a header and blank lines, and a bad cell, a NaN, an "
        "infinite value or a short line further down",
        "every error names the line as an editor shows it (the first line is 1, "
        "blank lines count)",
    ),
    (
        "compare-parquet-null",
        "a Parquet file with a null in a bool or float column, or in an embedding list",
        "exit status 2 naming the column and the first row with a missing value",
    ),
    (
        "compare-stale-figures",
        "compare --permutations 0 into a folder holding a nulls.png from an earlier "
        "run",
        "the stale figure is removed; the report shows only this run's figures",
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


# ``skrelrep compare``: hostile files and options.

COMPARE = ["--k", "4", "--anchors", "12", "--permutations", "9"]


@pytest.fixture(scope="module")
def pair():
    """Two related spaces of 60 items, and their labels (three classes)."""
    rng = np.random.RandomState(0)
    A = rng.normal(size=(60, 5))
    B = A @ rng.normal(size=(5, 7)) + 0.3 * rng.normal(size=(60, 7))
    return A, B, np.array(["x", "y", "z"])[np.arange(60) % 3]


def _npy(tmp_path, name, X):
    np.save(tmp_path / name, X)
    return str(tmp_path / name)


def _compare_fails(argv, capsys):
    """Run compare, expecting exit status 2; returns its one error line."""
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    return lines[-1]


def _compare(argv, out):
    assert main(["compare", *argv, "--out", str(out)]) == 0
    return json.loads((out / "metrics.json").read_text())


@case("compare-parquet-pandas-index")
def test_compare_never_reads_a_pandas_index(tmp_path, capsys):
    rng = np.random.RandomState(3)
    A, B = rng.normal(size=(120, 8)), rng.normal(size=(120, 8))
    keep = rng.rand(120) > 0.3
    for name, X in [("a", A), ("b", B)]:
        frame = pd.DataFrame(X).rename(columns=str)[keep]
        frame.to_parquet(tmp_path / f"{name}.parquet")
        assert "__index_level_0__" in pq.read_schema(tmp_path / f"{name}.parquet").names
    named = pd.DataFrame(B).rename(columns=str)[keep]
    named.index = pd.Index(np.flatnonzero(keep) * 1000, name="item_id")
    named.to_parquet(tmp_path / "named.parquet")
    first, second = str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")
    got = _compare([first, second, *COMPARE], tmp_path / "parquet")
    out = capsys.readouterr().out
    assert "its pandas index ('__index_level_0__') is not data" in out
    expected = _compare(
        [_npy(tmp_path, "a.npy", A[keep]), _npy(tmp_path, "b.npy", B[keep]), *COMPARE],
        tmp_path / "npy",
    )
    assert got == expected
    assert abs(got["linear_cka"] - 1) > 0.5  # the index made it 0.99999
    with_name = _compare(
        [first, str(tmp_path / "named.parquet"), *COMPARE], tmp_path / "named"
    )
    assert with_name == expected
    assert "its pandas index ('item_id') is not data" in capsys.readouterr().out
    line = _compare_fails(
        [f"{first}:__index_level_0__", second, "--out", str(tmp_path / "o")], capsys
    )
    assert f"{first}:__index_level_0__: column '__index_level_0__' is the pandas " in (
        line
    )


@case("compare-index-column")
def test_compare_refuses_an_index_column(tmp_path, pair, capsys):
    A, B, _ = pair
    keep = np.random.RandomState(1).rand(60) > 0.3
    frame = pd.DataFrame(B, columns=[f"f{j}" for j in range(7)])[keep]
    frame.index.name = "item_id"
    first = _npy(tmp_path, "a.npy", A[keep])
    files = {
        "named.csv": lambda p: frame.to_csv(p),
        "bare.csv": lambda p: frame.to_csv(p, header=False),
        "ids.parquet": lambda p: frame.reset_index().to_parquet(p, index=False),
        "ids.npy": lambda p: np.save(p, frame.reset_index().to_numpy()),
    }
    start = np.flatnonzero(keep)[0]
    for name, write in files.items():
        write(tmp_path / name)
        argv = [first, str(tmp_path / name), "--out", str(tmp_path / "o")]
        line = _compare_fails(argv, capsys)
        column = "column 1" + (
            "" if name in {"bare.csv", "ids.npy"} else " ('item_id')"
        )
        assert line.endswith(
            f"{tmp_path / name}: {column} holds increasing whole numbers ({start}, "
            f"{np.flatnonzero(keep)[1]}, ..., {np.flatnonzero(keep)[-1]}), as an index "
            "or item ids do, not a feature: write the file without it (from pandas: "
            "index=False)"
        ), line
    # Whole numbers everywhere (counts): nothing stands out, the file is read.
    counts = np.c_[np.arange(60), np.random.RandomState(2).poisson(3, size=(60, 4))]
    np.save(tmp_path / "a60.npy", A)
    got = _compare(
        [str(tmp_path / "a60.npy"), _npy(tmp_path, "c.npy", counts), *COMPARE],
        tmp_path / "counts",
    )
    assert "linear_cka" in got


@case("compare-parquet-usual-layout")
def test_compare_finds_the_embedding_column(tmp_path, pair, capsys):
    A, B, labels = pair
    table = pa.table(
        {
            "id": np.arange(60),
            "text": [f"item {i}" for i in range(60)],
            "embedding": pa.array(A.tolist(), type=pa.list_(pa.float64())),
            "topic": labels,
        }
    )
    pq.write_table(table, tmp_path / "items.parquet")
    items = str(tmp_path / "items.parquet")
    second = _npy(tmp_path, "b.npy", B)
    argv = [items, second, "--labels", f"{items}:topic", *COMPARE[:2]]
    got = _compare([*argv, "--permutations", "9", "--anchors", "1500"], tmp_path / "o")
    out = capsys.readouterr().out
    assert f"A: {items}: 60 items x 5 features, float64; column 'embedding'" in out
    assert "--anchors 1500: capped at 30, half of the 60 items" in out
    plain = [_npy(tmp_path, "a.npy", A), second, "--labels", _labels(tmp_path, labels)]
    options = [*COMPARE[:2], "--permutations", "9", "--anchors", "30"]
    expected = _compare([*plain, *options], tmp_path / "npy")
    assert got == expected
    pq.write_table(
        table.append_column("other", pa.array(B[:, :5].tolist())),
        tmp_path / "two.parquet",
    )
    two = str(tmp_path / "two.parquet")
    line = _compare_fails([two, second, "--out", str(tmp_path / "o")], capsys)
    assert line.endswith(
        f"{two}: holds 2 columns of numeric lists ('embedding', 'other'); choose the "
        "embedding as FILE.parquet:COLUMN"
    )
    chosen = _compare([f"{two}:embedding", second, *COMPARE], tmp_path / "chosen")
    assert chosen == _compare(
        [_npy(tmp_path, "a.npy", A), second, *COMPARE], tmp_path / "npy2"
    )


def _labels(tmp_path, labels):
    (tmp_path / "labels.txt").write_text("\n".join(labels) + "\n")
    return str(tmp_path / "labels.txt")


@case("compare-missing-labels")
def test_compare_refuses_missing_labels(tmp_path, pair, capsys):
    A, B, labels = pair
    files = [_npy(tmp_path, "a.npy", A), _npy(tmp_path, "b.npy", B)]
    numbers = (np.arange(60) % 3).astype(float)
    numbers[4] = np.nan
    strings = pd.Series(labels).where(np.arange(60) != 7)
    cases = {
        "nan.npy": (lambda p: np.save(p, numbers), "row 4 (counting from 0) is nan"),
        "all-nan.npy": (
            lambda p: np.save(p, np.full(60, np.nan)),
            "row 0 (counting from 0) is nan",
        ),
        "null.parquet": (
            lambda p: strings.to_frame("label").to_parquet(p),
            "column 'label' has 1 missing value (null), the first in row 7",
        ),
        "blank.txt": (
            lambda p: p.write_text("\n".join(strings.fillna("")) + "\n"),
            "line 8 is empty: a missing label",
        ),
        "na.txt": (
            lambda p: p.write_text("\n".join(strings.fillna("NA")) + "\n"),
            "the label in line 8 is 'NA', which stands for a missing value",
        ),
    }
    for name, (write, says) in cases.items():
        write(tmp_path / name)
        argv = [*files, "--labels", str(tmp_path / name), "--out", str(tmp_path / "o")]
        line = _compare_fails(argv, capsys)
        assert f"error: {tmp_path / name}: " in line and says in line, line
    assert list((tmp_path / "o").iterdir()) == []


@case("compare-continuous-labels")
def test_compare_refuses_labels_that_are_not_classes(tmp_path, pair, capsys):
    A, B, _ = pair
    files = [_npy(tmp_path, "a.npy", A), _npy(tmp_path, "b.npy", B)]
    target = np.round(np.random.RandomState(0).rand(60), 2) + 0.001
    for name, labels, says in [
        (
            "target.npy",
            target,
            f"holds fractional numbers ({target[0].item()!r} in row 0",
        ),
        ("ids.npy", np.arange(60), "all 60 labels differ"),
    ]:
        argv = [
            *files,
            "--labels",
            _npy(tmp_path, name, labels),
            "--out",
            str(tmp_path / "o"),
        ]
        assert says in _compare_fails(argv, capsys)
    # Whole numbers stored as floats are classes.
    classes = _npy(tmp_path, "classes.npy", (np.arange(60) % 3).astype(float))
    got = _compare([*files, "--labels", classes, *COMPARE], tmp_path / "o")
    assert "label_purity_a@4" in got


def _must_not_read(monkeypatch):
    def refuse(spec):
        raise AssertionError("a file was read")

    monkeypatch.setattr(_compare_command, "read_embeddings", refuse)


@case("compare-one-anchor")
def test_compare_needs_two_anchors(tmp_path, capsys, monkeypatch):
    _must_not_read(monkeypatch)
    for anchors in ["1", "0"]:
        line = _compare_fails(["a.npy", "b.npy", "--anchors", anchors], capsys)
        assert line == (
            "skrelrep compare: error: argument --anchors: must be an integer of at "
            f"least 2, got '{anchors}'"
        )


@case("compare-huge-permutations")
def test_compare_refuses_absurd_permutations(capsys, monkeypatch):
    _must_not_read(monkeypatch)
    for value in ["1000000000000", "1e20", "100001"]:
        line = _compare_fails(["a.npy", "b.npy", "--permutations", value], capsys)
        assert line == (
            "skrelrep compare: error: argument --permutations: must be an integer "
            f"from 0 to 100000, got '{value}'"
        )


@case("compare-integer-syntax")
@pytest.mark.parametrize("option", ["--k", "--anchors", "--permutations", "--seed"])
@pytest.mark.parametrize("value", ["5_0", "+5", "5.0", " 5", "\u0665"])
def test_compare_integers_are_plain_digits(option, value, capsys, monkeypatch):
    _must_not_read(monkeypatch)
    line = _compare_fails(["a.npy", "b.npy", option, value], capsys)
    assert f"error: argument {option}: must be an integer" in line
    assert line.endswith(f"got {value!r}")


@case("compare-identical-rows")
def test_compare_of_identical_rows_writes_every_figure(tmp_path, pair, capsys):
    _, B, _ = pair
    constant = _npy(tmp_path, "constant.npy", np.tile([1.0, -2.0, 0.5], (60, 1)))
    out = tmp_path / "out"
    _compare([constant, _npy(tmp_path, "b.npy", B), *COMPARE], out)
    for figure in ["nulls.png", "neighbours.png", "anchors.png"]:
        assert (out / figure).read_bytes()[:4] == b"\x89PNG"
    err = capsys.readouterr().err
    assert "Traceback" not in err
    # The transformer's warning that the anchors collapse, as one line each.
    warned = [line for line in err.splitlines() if "anchors" in line]
    assert warned and all(
        line.startswith("skrelrep compare: warning: ") for line in warned
    )
    report = (out / "report.md").read_text()
    assert "## Warnings" in report
    assert warned[0].removeprefix("skrelrep compare: warning: ") in report
    _check_nulls_without_range(pair)


def _check_nulls_without_range(pair):
    """Whatever the measures give on such spaces, the nulls are drawn: spanning a
    few ulps, constant, with a NaN, all NaN."""
    import matplotlib.pyplot as plt

    A, B, _ = pair
    comparison = compare_spaces(A, B, n_anchors=12, k=4, n_permutations=9)
    spans = {
        "linear_cka": 0.3 + 1e-17 * np.arange(9),
        "debiased_cka": np.zeros(9),
        "mutual_knn@4": np.r_[0.1 + 5e-17 * np.arange(8), np.nan],
        "cosine_agreement": np.full(9, np.nan),
    }
    nulls = {**comparison.nulls, **spans}
    figure = plot_permutation_nulls(dataclasses.replace(comparison, nulls=nulls))
    panels = {ax.get_title().split(" ")[0]: ax for ax in figure.axes}
    for name, null in spans.items():
        bars = panels[name].patches
        finite = null[np.isfinite(null)]
        assert sum(bar.get_height() for bar in bars) == finite.size
        if finite.size:  # every finite value inside the drawn bins
            left = min(bar.get_x() for bar in bars)
            right = max(bar.get_x() + bar.get_width() for bar in bars)
            assert left <= finite.min() and finite.max() <= right
    plt.close(figure)


@case("compare-truncated-npy")
def test_a_truncated_npy_is_reported_with_numpys_reason(tmp_path, pair, capsys):
    A, B, _ = pair
    first = _npy(tmp_path, "a.npy", A)
    data = (tmp_path / "a.npy").read_bytes()
    archive = tmp_path / "b.npz"
    np.savez(archive, b=B)
    cases = {
        "half.npy": (data[: len(data) // 2], "file seems not fully written"),
        "header.npy": (data[:40], "EOF: reading array header"),
        "half.npz": (archive.read_bytes()[:300], "cannot read as .npz"),
    }
    for name, (content, says) in cases.items():
        (tmp_path / name).write_bytes(content)
        line = _compare_fails(
            [first, str(tmp_path / name), "--out", str(tmp_path / "o")], capsys
        )
        assert f"{tmp_path / name}: cannot read as ." in line and says in line, line
        assert "refused" not in line and "pickle" not in line


@case("compare-csv-bad-first-line")
@pytest.mark.parametrize("bad", ["", "NA", "0.3x", "nan"])
def test_a_bad_first_csv_line_is_data(tmp_path, pair, bad, capsys):
    A, B, _ = pair
    lines = [",".join(f"{value:.6f}" for value in row) for row in B]
    cells = lines[0].split(",")
    cells[2] = bad
    path = tmp_path / "typo.csv"
    path.write_text("\n".join([",".join(cells), *lines[1:]]) + "\n")
    first = _npy(tmp_path, "a.npy", A)
    line = _compare_fails([first, str(path), "--out", str(tmp_path / "o")], capsys)
    assert line.startswith(f"skrelrep compare: error: {path}: line 1, column 3: ")
    assert first not in line


@case("compare-csv-lines")
def test_csv_errors_name_the_line_an_editor_shows(tmp_path, pair, capsys):
    A, B, _ = pair
    first = _npy(tmp_path, "a.npy", A)
    body = [",".join(f"{value:.6f}" for value in row) for row in B]
    header = ",".join(f"f{j}" for j in range(7))

    def fails(row, text):
        lines = list(body)
        lines[row] = text
        # line 1 the header, line 2 blank, then row i on line i + 3
        path = tmp_path / "bad.csv"
        path.write_text("\n".join([header, "", *lines]) + "\n")
        return _compare_fails([first, str(path), "--out", str(tmp_path / "o")], capsys)

    assert fails(5, "1,2,3,x,5,6,7").endswith("line 8, column 4: 'x' is not a number")
    assert fails(5, "1,2,3,nan,5,6,7").endswith(
        "line 8, column 4: 'nan' is not a finite number"
    )
    assert fails(9, "1,2,3,1e400,5,6,7").endswith("the first in line 12)")
    assert fails(6, "1,2,3").endswith("line 9 has 3 cells, and line 3 has 7")
    wide = tmp_path / "wide.csv"
    wide.write_text("\n".join([header + ",f7", *body]) + "\n")
    line = _compare_fails([first, str(wide), "--out", str(tmp_path / "o")], capsys)
    assert line.endswith(
        "line 1, the header, names 8 columns, and the lines below hold 7 numbers"
    )


@case("compare-parquet-null")
def test_parquet_nulls_name_the_column_and_row(tmp_path, pair, capsys):
    A, _, _ = pair
    first = _npy(tmp_path, "a.npy", A)
    flags = [True] * 60
    flags[3] = None
    lists = A.tolist()
    lists[5][2] = None
    cases = {
        "bool": (pa.table({"f": pa.array(flags), "g": np.ones(60)}), "column 'f'"),
        "float": (
            pa.table({"f": np.ones(60), "g": pa.array([1.0, 2.0, None] + [0.0] * 57)}),
            "column 'g' has 1 missing value (null), the first in row 2 (counting",
        ),
        "lists": (
            pa.table({"e": pa.array(lists, type=pa.list_(pa.float64()))}),
            "column 'e' has missing values (nulls) in its lists, the first in row 5",
        ),
    }
    for name, (table, says) in cases.items():
        path = tmp_path / f"{name}.parquet"
        pq.write_table(table, path)
        line = _compare_fails([first, str(path), "--out", str(tmp_path / "o")], capsys)
        assert f"{path}: " in line and says in line, line
        assert "<U5" not in line


@case("compare-stale-figures")
def test_stale_figures_are_removed(tmp_path, pair):
    A, B, _ = pair
    files = [_npy(tmp_path, "a.npy", A), _npy(tmp_path, "b.npy", B)]
    out = tmp_path / "out"
    _compare([*files, *COMPARE], out)
    assert (out / "nulls.png").exists()
    _compare([*files, "--k", "4", "--permutations", "0"], out)
    assert sorted(p.name for p in out.iterdir()) == [
        "anchors.png",
        "metrics.json",
        "neighbours.png",
        "report.md",
    ]
