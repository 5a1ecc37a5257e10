"""The benchmark harness of benchmarks/: each benchmark runs end to end, quickly.

The figures themselves are measured outside the test suite (``python -m
benchmarks.run``); these smoke tests keep every benchmark runnable.
"""

import csv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_harness_smoke(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.run import run_benchmarks

    pytest.importorskip("matplotlib")
    results = run_benchmarks("smoke", out_dir=tmp_path, isolate=False)
    for name in (
        "transform.csv",
        "selection.csv",
        "scaling.csv",
        "grid.csv",
        "results.md",
    ):
        assert (tmp_path / name).stat().st_size > 0
    assert (tmp_path / "results.png").read_bytes()[:4] == b"\x89PNG"

    transform = results["transform"]
    assert all("error" not in row for row in transform), transform
    with open(tmp_path / "transform.csv") as handle:
        assert len(list(csv.DictReader(handle))) == len(transform)
    methods = {row["method"] for row in transform}
    assert {"gemm", "skrelrep", "numpy", "sklearn_cosine", "nystroem"} <= methods
    for row in transform:
        assert row["ratio_to_gemm"] > 0
        if row["method"] == "gemm":
            assert row["ratio_to_gemm"] == 1.0
        if row["max_error"] is not None:  # the method computes the cosine matrix
            tolerance = 1e-5 if row["dtype"] == "float32" else 1e-12
            assert row["max_error"] < tolerance, row
        if row["method"] in ("gemm", "skrelrep", "numpy", "sklearn_cosine"):
            assert row["out_dtype"] == row["dtype"]

    selection = results["selection"]
    assert [row["strategy"] for row in selection] == [
        "random",
        "stratified",
        "fps",
        "kmeans",
    ]
    for row in selection:
        assert "error" not in row, row
        assert 0 < row["coverage"] < 2
    assert {row["n"] for row in results["scaling"]} == {200, 400}
    # The grid: every shape with and without centring, each checked against its own
    # float64 reference and paired with both GEMMs.
    grid = results["grid"]
    assert [(r["n"], r["d"], r["k"], r["method"]) for r in grid] == [
        (n, d, k, method)
        for n, d, k in ((300, 16, 8), (500, 8, 16))
        for method in ("skrelrep", "skrelrep_centered")
    ]
    for row in grid:
        assert "error" not in row, row
        assert row["ratio_to_gemm"] > 0 and row["ratio_to_gemm_into"] > 0
        assert row["best_ratio_to_gemm"] == pytest.approx(
            min(row["times"]) / min(row["gemm_times"])
        )
        assert row["max_error"] < 1e-5 and row["out_dtype"] == "float32"
    markdown = (tmp_path / "results.md").read_text()
    assert "## Targets" in markdown and "skrelrep" in markdown
    assert "## Grid of shapes" in markdown


def test_grid_targets_read_the_best_runs_and_can_fail():
    from benchmarks._report import check_targets

    def row(method, shape, median, best):
        n, d, k = shape
        return dict(
            method=method,
            n=n,
            d=d,
            k=k,
            dtype="float32",
            ratio_to_gemm=median,
            ratio_to_gemm_into=median,
            best_ratio_to_gemm=best,
            best_ratio_to_gemm_into=best,
        )

    # A slow spell in most paired runs, quiet best runs: met, both figures shown.
    grid = [
        row("skrelrep", (1_000_000, 128, 256), 2.3, 1.06),
        row("skrelrep", (100_000, 768, 1000), 1.06, 1.04),
        row("skrelrep_centered", (100_000, 768, 1000), 1.2, 1.15),
    ]
    checks = {t: (m, v) for t, m, v in check_targets([], [], [], grid)}
    plain = checks["transform ≤ 1.10x GEMM at (1000000,128,256)"]
    assert plain[1] is True and "best runs 1.060x" in plain[0] and "2.300x" in plain[0]
    assert checks["transform ≤ 1.05x GEMM at (100000,768,1000)"][1] is True
    assert checks["centred transform ≤ 1.10x GEMM at (100000,768,1000)"][1] is False
    # Without best runs (older results), the paired median decides.
    for r in grid:
        del r["best_ratio_to_gemm"], r["best_ratio_to_gemm_into"]
    checks = {t: (m, v) for t, m, v in check_targets([], [], [], grid)}
    assert checks["transform ≤ 1.10x GEMM at (1000000,128,256)"][1] is False


def test_pipeline_benchmark_smoke():
    """benchmarks.bench_pipeline runs end to end on a tiny problem."""
    from benchmarks.bench_pipeline import run

    timings = dict(run(rows=400, features=16, anchors=10, classes=3, repeats=1))
    assert set(timings) == {
        "fit: StitchedPipeline",
        "fit: plain Pipeline, same steps",
        "fit: absolute baseline (passthrough)",
        "predict: StitchedPipeline",
        "predict: plain Pipeline, same steps",
        "predict: absolute baseline (passthrough)",
        "stitch(): re-embed anchors",
    }
    assert all(seconds > 0 for seconds in timings.values())


def test_centering_benchmark_smoke():
    """benchmarks.bench_centering --quick: every pair, both settings, sane values."""
    import math

    from benchmarks.bench_centering import SETTINGS, run, to_markdown

    rows, choices, notes, _ = run("quick")
    pairs = {
        "fortunes: MiniLM-L6 ↔ L3",
        "fortunes: MiniLM-L6 ↔ e5",
        "chatterbot: MiniLM-L6 (en) ↔ e5 (it)",
        "fashion-mnist: EfficientNet-Lite0 ↔ Lite2",
        "words: Word2Vec ↔ FastText",
        "digits: MLP seed 0 ↔ seed 1",
    }
    assert {row["pair"] for row in rows} == pairs
    for pair in pairs:
        metrics = {row["metric"].split(":")[0] for row in rows if row["pair"] == pair}
        expected = {"retrieval R@1", "retrieval R@10", "crowding"}
        if pair.startswith("words"):
            expected |= {"words"}
        else:
            expected |= {"accuracy"}
        assert metrics == expected, (pair, metrics)
    for row in rows:
        low = -1.0 if row["metric"].startswith("crowding") else 0.0
        for setting in SETTINGS:
            mean, std = row[f"center={setting}"]
            assert math.isfinite(mean) and math.isfinite(std), row
            assert low - 1e-9 <= mean <= 1.0 + 1e-9 and 0.0 <= std <= 1.0, row
        if row["chance"] is not None:
            assert 0.0 < row["chance"] <= 1.0, row
        else:
            assert row["metric"].startswith(("crowding", "words")), row
    markdown = to_markdown(rows, choices=choices, notes=notes)
    assert "| pair | metric | center=False | center=True | chance |" in markdown
    assert all(pair in markdown for pair in pairs)
    lines = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert len(lines) == len(rows) + 1  # the header, then one line a row


def test_fps_benchmark_smoke():
    """benchmarks.bench_fps --quick: regular and degenerate data, side by side."""
    from benchmarks.bench_fps import run, to_markdown

    rows = run(rows=3000, features=8, anchors=60, directions=10, repeats=1)
    assert [row["data"] for row in rows] == ["regular", "copies", "scaled copies"]
    assert rows[0]["ratio_to_regular"] == 1.0
    for row in rows:
        assert row["seconds"] > 0 and row["distinct_anchors"] == 60, row
    assert to_markdown(rows).count("\n") == len(rows) + 1


def test_cache_benchmark_smoke():
    """benchmarks.bench_cache --quick: the three searches, counted, agree."""
    pytest.importorskip("sentence_transformers")
    from benchmarks.bench_cache import run, to_markdown

    result = run("quick")
    rows = {row["way"]: row for row in result["rows"]}
    assert list(rows) == ["uncached", "cached", "embed once"]
    n, candidates = result["texts"], len(result["anchors"])
    # Uncached: every fold of every candidate, then the refit; cached: each text once.
    assert rows["uncached"]["rows"] == (candidates * 3 + 1) * n
    assert rows["cached"]["rows"] == rows["embed once"]["rows"] == n
    for way in ("cached", "embed once"):
        assert rows[way]["scores"] == pytest.approx(
            rows["uncached"]["scores"], abs=1e-6
        )
    assert all(row["seconds"] > 0 for row in rows.values())
    assert to_markdown(result).count("\n| ") == len(rows) + 2  # header, rule, rows
