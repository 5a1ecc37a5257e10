"""benchmarks.bench_bridge runs end to end on a tiny problem."""


def test_bridge_benchmark_smoke(tmp_path, monkeypatch):
    from benchmarks import bench_bridge

    monkeypatch.setattr(bench_bridge, "CACHE", tmp_path)  # fabricated data
    rows = bench_bridge.run(n_index=300, n_anchors=60, n_unpaired=100, repeats=1)
    assert rows[0]["data"].startswith("fabricated")
    assert rows[0]["wall_s"] > 0 and rows[0]["cpu_s"] > 0
    assert 0 <= rows[0]["cv_recall@10"] <= 1
    assert "| fabricated" in bench_bridge.to_markdown(rows)
