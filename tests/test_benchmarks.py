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
    for name in ("transform.csv", "selection.csv", "scaling.csv", "results.md"):
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
    markdown = (tmp_path / "results.md").read_text()
    assert "## Targets (issue 5)" in markdown and "skrelrep" in markdown


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
