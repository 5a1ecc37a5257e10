"""compare_spaces at scale: reused tables and CKA terms, bounded memory, FAISS, progress."""

import sys
import tracemalloc

import numpy as np
import pytest
import sklearn

from skrelrep.metrics import compare_spaces, linear_cka, mutual_knn
from skrelrep.metrics._approximate import faiss_table
from skrelrep.metrics._cka import CKAParts
from skrelrep.metrics._knn import exact_table
from skrelrep.utils._norms import normalize_rows


def _related(n, width_a, width_b, seed=0, dtype=np.float64):
    rng = np.random.RandomState(seed)
    latent = rng.normal(size=(n, 8))
    A = latent @ rng.normal(size=(8, width_a)) + rng.normal(size=(n, width_a))
    B = latent @ rng.normal(size=(8, width_b)) + rng.normal(size=(n, width_b))
    return A.astype(dtype), B.astype(dtype)


@pytest.mark.parametrize(
    ("n", "width_a", "width_b"),
    [(60, 5, 9), (12, 40, 300), (30, 50, 7)],  # tall, wide, one of each
)
def test_cka_permutations_equal_full_recomputations(n, width_a, width_b):
    A, B = _related(n, width_a, width_b)
    parts = CKAParts(A, B, batch_size=7)
    assert parts.observed() == pytest.approx(
        (linear_cka(A, B), linear_cka(A, B, debiased=True)), rel=1e-10
    )
    rng = np.random.RandomState(1)
    for _ in range(3):
        order = rng.permutation(n)
        expected = linear_cka(A, B[order]), linear_cka(A, B[order], debiased=True)
        assert parts.permuted(order) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_cka_permutations_of_float32_stay_float32_and_close():
    A, B = _related(200, 16, 24, dtype=np.float32)
    parts = CKAParts(A, B)
    order = np.random.RandomState(0).permutation(200)
    expected = linear_cka(A, B[order]), linear_cka(A, B[order], debiased=True)
    assert parts.permuted(order) == pytest.approx(expected, abs=1e-5)
    assert parts.a.rows(slice(0, 5), A.dtype).dtype == np.float32


def test_compare_spaces_reuses_its_searches(monkeypatch):
    """One exact search per table, whatever the number of permutations."""
    from skrelrep.metrics import _knn, _symmetric

    calls = []
    real = _knn.exact_table

    def counting(*args, **kwargs):
        calls.append(kwargs.get("name"))
        return real(*args, **kwargs)

    monkeypatch.setattr("skrelrep.metrics._retrieval.exact_table", counting)
    real_symmetric = _symmetric.symmetric_table

    def counting_symmetric(*args, **kwargs):
        calls.append(kwargs.get("name"))
        return real_symmetric(*args, **kwargs)

    for module in ("_neighbourhoods", "_retrieval"):
        monkeypatch.setattr(
            f"skrelrep.metrics.{module}.symmetric_table", counting_symmetric
        )
    A, B = _related(150, 6, 9)
    compare_spaces(A, B, n_anchors=30, k=5, n_permutations=29)
    assert sorted(calls) == sorted(["A", "B", "B's codes", "A's codes in B"])


def test_compare_memory_stays_bounded():
    """Beyond its inputs: one chunk, one space's unit rows, the codes, the tables."""
    n, width, n_anchors, k = 6000, 100, 50, 10
    A, B = _related(n, width, width, dtype=np.float32)
    chunk = 2 * 2**20
    codes = 6 * n * n_anchors * 4  # each space's codes, the evaluated ones, unit rows
    tables = 4 * n * k * 40  # column, weight, key (and reciprocal rank) per entry
    with sklearn.config_context(working_memory=chunk / 2**20):
        tracemalloc.start()
        try:
            compare_spaces(A, B, n_anchors=n_anchors, k=k, n_permutations=5)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < chunk + A.nbytes + codes + tables
    assert peak < n * n * 4 / 4  # a quarter of one all-pairs similarity matrix


def test_float32_comparison_agrees_with_float64():
    A, B = _related(300, 12, 20)
    kwargs = dict(n_anchors=40, k=10, n_permutations=9, random_state=0)
    single = compare_spaces(A.astype(np.float32), B.astype(np.float32), **kwargs)
    double = compare_spaces(A, B, **kwargs)
    for name, value in double.metrics.items():
        assert single.metrics[name] == pytest.approx(value, abs=1e-4), name
    assert single.relative_a.anchors_.dtype == np.float32


def test_faiss_tables_and_their_recall():
    pytest.importorskip("faiss")
    rng = np.random.RandomState(0)
    X = normalize_rows(rng.normal(size=(500, 16)).astype(np.float32), np)
    exact = exact_table(X, X, k=5, exclude_self=True)
    approximate, recall = faiss_table(
        X, X, k=5, exclude_self=True, ranked=False, random_state=0
    )
    assert recall > 0.95
    shared = approximate.shared(exact)
    assert np.mean(shared / 5) == pytest.approx(recall, abs=0.05)
    assert not np.any(approximate.indices.reshape(500, 5) == np.arange(500)[:, None])


def test_compare_with_faiss_reports_recall_and_matches_exact():
    pytest.importorskip("faiss")
    A, B = _related(400, 12, 20, dtype=np.float32)
    kwargs = dict(n_anchors=50, k=5, n_permutations=9, random_state=0)
    exact = compare_spaces(A, B, **kwargs)
    approximate = compare_spaces(A, B, knn_algorithm="faiss", **kwargs)
    assert approximate.knn_algorithm == "faiss"
    assert set(approximate.knn_recall) == {"a", "b", "codes_b", "codes_ab"}
    for table, recall in approximate.knn_recall.items():
        assert recall > 0.9
        assert approximate.metrics[f"knn_recall_{table}@5"] == recall
    for name in ("mutual_knn@5", "retrieval_jaccard@5", "retrieval_mrr@5"):
        assert approximate.metrics[name] == pytest.approx(exact.metrics[name], abs=0.05)
    assert approximate.metrics["linear_cka"] == exact.metrics["linear_cka"]
    assert exact.knn_recall == {}


def test_faiss_missing_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "faiss", None)
    A, B = _related(100, 4, 4)
    with pytest.raises(ImportError, match="pip install faiss-cpu"):
        compare_spaces(A, B, n_anchors=20, k=3, knn_algorithm="faiss")
    with pytest.raises(ValueError, match="knn_algorithm must be one of"):
        compare_spaces(A, B, knn_algorithm="annoy")


def test_progress_bars_when_asked(capsys):
    pytest.importorskip("tqdm")
    A, B = _related(100, 4, 4)
    compare_spaces(A, B, n_anchors=20, k=3, n_permutations=4, show_progress=True)
    shown = capsys.readouterr().err
    assert "permutations" in shown and "neighbours of A" in shown
    compare_spaces(A, B, n_anchors=20, k=3, n_permutations=4, show_progress=False)
    assert capsys.readouterr().err == ""


def test_tables_do_not_depend_on_the_chunking():
    rng = np.random.RandomState(0)
    X = normalize_rows((rng.rand(90, 3) > 0.5) * 1.0, np)  # heavy exact ties
    Y = normalize_rows(rng.normal(size=(90, 3)), np)
    for k in (1, 4, 30):
        whole = mutual_knn(X, Y, k=k)
        for batch_size in (1, 7, 90):
            assert mutual_knn(X, Y, k=k, batch_size=batch_size) == pytest.approx(
                whole, abs=1e-12
            )
        with sklearn.config_context(working_memory=0.05):  # chunks of a few rows
            assert mutual_knn(X, Y, k=k) == pytest.approx(whole, abs=1e-12)


def test_the_compare_benchmark_runs(tmp_path, monkeypatch, capsys):
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))
    from benchmarks.bench_compare import main

    out = tmp_path / "compare.md"
    row = main(["--preset", "smoke", "--phases", "--out", str(out)])
    assert row["compare_s"] > 0 and row["ratio"] > 0 and row["ratio_gemm"] > 0
    assert set(row["phases"]) >= {"k-NN tables of A and B", "CKA nulls (9)"}
    assert "| 400 | 16/24 | 9 | exact |" in out.read_text()
    assert row["metrics"]["mutual_knn@10_pvalue"] == 0.1  # related spaces


@pytest.mark.parametrize("exclude_self", [True, False])
@pytest.mark.parametrize("batch_size", [1, 7, None])
def test_symmetric_search_equals_the_full_search(exclude_self, batch_size):
    from skrelrep.metrics._symmetric import symmetric_table

    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4))
    X[:30] = (rng.rand(30, 4) > 0.5) * 1.0  # exact ties, a zero row likely
    X[30:40] = X[30]  # duplicates
    unit = normalize_rows(X, np)
    for k in (1, 5, 40):
        full = exact_table(unit, unit, k=k, exclude_self=exclude_self)
        half = symmetric_table(
            unit, k=k, exclude_self=exclude_self, batch_size=batch_size
        )
        for row in range(120):
            np.testing.assert_allclose(half.weights(row), full.weights(row), atol=1e-12)
        assert np.all(half.regular == full.regular)
