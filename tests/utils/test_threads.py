"""Row pieces on several threads (skrelrep.utils._threads) and the cosine kernel on them.

The test suite runs with one BLAS thread per worker, where the kernel takes a single
thread; these tests ask for several, so that the threaded path is tested too.
"""

import threading

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from threadpoolctl import threadpool_info, threadpool_limits

import skrelrep.similarity._cosine as cosine
from skrelrep import RelativeTransformer
from skrelrep.utils._threads import blas_threads, run_pieces, single_threaded_blas


def _blas_thread_counts():
    return sorted(
        i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"
    )


@pytest.mark.parametrize("n_threads", [1, 2, 3, 8])
def test_every_piece_once_each_thread_its_own_workspace(n_threads):
    seen, workspaces = [], set()
    lock = threading.Lock()

    def work(piece, workspace):
        with lock:
            seen.append(piece)
            workspaces.add(id(workspace))

    run_pieces(work, range(20), n_threads, make_workspace=lambda: object())
    assert sorted(seen) == list(range(20))
    assert 1 <= len(workspaces) <= n_threads


def test_the_first_error_stops_the_others_and_is_raised():
    done = []

    def work(piece, workspace):
        if piece == 3:
            raise ValueError("piece 3")
        done.append(piece)

    with pytest.raises(ValueError, match="piece 3"):
        run_pieces(work, range(10_000), 2)
    assert len(done) < 9_999  # the other thread stopped early


def test_blas_is_single_threaded_inside_and_restored_after():
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_thread_counts()
        assert blas_threads() == 2
        inside = []
        run_pieces(
            lambda piece, workspace: inside.append(_blas_thread_counts()),
            range(4),
            2,
        )
        assert all(max(counts) == 1 for counts in inside)
        assert _blas_thread_counts() == before


def test_nested_and_overlapping_holders_restore_the_limit_once():
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_thread_counts()
        first, second = single_threaded_blas(), single_threaded_blas()
        first.__enter__()
        second.__enter__()
        first.__exit__(None, None, None)  # the other holder still needs one thread
        assert max(_blas_thread_counts()) == 1
        second.__exit__(None, None, None)
        assert _blas_thread_counts() == before


def _unit_rows(M):
    norms = np.linalg.norm(M, axis=1, keepdims=True)
    return M / np.where(norms > 0, norms, 1)  # zero rows stay zero, as ours do


@pytest.fixture
def three_threads(monkeypatch):
    """The kernel shares its pieces among three threads, whatever the BLAS says."""
    monkeypatch.setattr(cosine, "blas_threads", lambda: 3)
    monkeypatch.setattr(cosine, "_PARALLEL_MIN_FLOPS", 0)
    monkeypatch.setattr(cosine, "_MIN_PIECE_ROWS", 7)
    monkeypatch.setattr(cosine, "_PIECE_BYTES", 7 * 4 * 24)


@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_anchors", [10, 40])  # narrower and wider than X
def test_threaded_kernel_matches_a_float64_reference(
    three_threads, center, dtype, n_anchors
):
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((500, 24)) + 0.5).astype(dtype)
    X[[3, 250]] = 0  # zero rows in two different pieces
    X[100] *= 1e30 if dtype == np.float64 else 1e18  # norms out of range
    relative = RelativeTransformer(n_anchors, center=center, random_state=0).fit(X)
    assert cosine.piece_rows(500, 24, n_anchors, X.itemsize) == 7
    R = relative.transform(X)
    X64 = X.astype(np.float64)
    anchors = X64[relative.anchor_indices_]
    if center:
        mean = anchors.mean(axis=0)
        X64, anchors = X64 - mean, anchors - mean
    expected = _unit_rows(X64) @ _unit_rows(anchors).T
    assert R.dtype == dtype
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    assert_allclose(R, expected, rtol=0, atol=tolerance)
    if not center:
        assert not R[[3, 250]].any()


@pytest.mark.parametrize(
    ("n_samples", "rows", "threads", "expected"),
    [
        (10_000, 2048, 2, 1667),  # 5 pieces -> 6 (3 each)
        (100_000, 4096, 2, 3847),  # 25 -> 26
        (1_000, 7, 3, 7),  # 143 pieces -> 144: still 7 rows (143 pieces, 48-48-47)
        (10, 4096, 3, 4),  # one piece -> 3 (4, 4, 2)
        (2, 4096, 3, 1),  # fewer rows than threads: one row each
        (10_000, 2048, 1, 2048),  # one thread: unchanged
        (0, 4096, 2, 4096),  # no rows: nothing to share
    ],
)
def test_pieces_come_in_multiples_of_the_threads(n_samples, rows, threads, expected):
    even = cosine._even_piece_rows(n_samples, rows, threads)
    assert even == expected and even <= rows


def test_kernel_shares_rows_evenly_among_threads(three_threads, monkeypatch):
    sizes = []
    original = cosine.gen_batches

    def recording(n, batch_size, **kwargs):
        sizes.extend(s.stop - s.start for s in original(n, batch_size, **kwargs))
        return original(n, batch_size, **kwargs)

    monkeypatch.setattr(cosine, "gen_batches", recording)
    X = np.random.default_rng(0).standard_normal((50, 24))
    relative = RelativeTransformer(10, center=False, random_state=0).fit(X)
    relative.transform(X)  # pieces of 7 rows: 8 of them -> 9 pieces of 6
    assert sizes == [6] * 8 + [2]


def test_threaded_kernel_on_sparse_input(three_threads):
    X = sp.random(300, 24, density=0.3, format="csr", random_state=0, dtype=np.float64)
    for center in (False, True):
        relative = RelativeTransformer(30, center=center, random_state=0).fit(X)
        dense = RelativeTransformer(30, center=center, random_state=0).fit(X.toarray())
        assert_allclose(relative.transform(X), dense.transform(X.toarray()), atol=1e-12)


def test_transforms_in_several_program_threads_at_once(three_threads):
    """Callers in several threads: right answers, and the BLAS limit restored."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((400, 24))
    relative = RelativeTransformer(30, random_state=0).fit(X)
    expected = relative.transform(X)
    results = [None] * 6
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_thread_counts()

        def call(i):
            results[i] = relative.transform(X)

        threads = [threading.Thread(target=call, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert _blas_thread_counts() == before
    for result in results:
        assert_allclose(result, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("center", [False, True])
def test_threads_add_one_piece_each_to_the_memory(three_threads, center, traced_peak):
    X = np.random.default_rng(2).standard_normal((30_000, 24))
    relative = RelativeTransformer(40, center=center, random_state=0).fit(X)
    R, peak = traced_peak(lambda: relative.transform(X))
    pieces = 3 * 7 * (24 + 1) * X.itemsize  # three threads' buffers and norms
    # A normalised copy of X would add 5.5 MiB; bookkeeping stays within 1 MiB.
    assert R.nbytes <= peak <= R.nbytes + pieces + 2**20


def test_small_products_stay_on_one_thread(monkeypatch):
    """Starting threads would cost more than a small product: one thread does it."""
    monkeypatch.setattr(cosine, "blas_threads", lambda: 3)
    monkeypatch.setattr(cosine, "_MIN_PIECE_ROWS", 7)
    monkeypatch.setattr(cosine, "_PIECE_BYTES", 7 * 4 * 24)
    calls = []
    original = cosine.run_pieces

    def recording(work, pieces, n_threads, **kwargs):
        calls.append(n_threads)
        return original(work, pieces, n_threads, **kwargs)

    monkeypatch.setattr(cosine, "run_pieces", recording)
    X = np.random.default_rng(3).standard_normal((500, 24))
    relative = RelativeTransformer(10, random_state=0).fit(X)
    relative.transform(X)  # 2 * 500 * 24 * 10 flops: far below the threshold
    monkeypatch.setattr(cosine, "_PARALLEL_MIN_FLOPS", 2 * 500 * 24 * 10)
    relative.transform(X)
    assert calls == [1, 3]


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize(
    "params",
    [
        {"center": False, "n_anchors": 40},  # rows scaled into a buffer
        {"center": False, "n_anchors": 10},  # output rows scaled
        {"center": True, "n_anchors": 10},  # centred into a buffer
        {"center": False, "n_anchors": 10, "exponent": 2.0},  # not the fused kernel
        {"center": True, "n_anchors": 10, "top_k": 3},
        {"center": True, "n_anchors": 10, "standardize": True},
        {"center": True, "n_anchors": 10, "similarity": "euclidean"},
    ],
)
@pytest.mark.parametrize("sparse", [False, True])
def test_non_finite_rows_are_refused_in_any_piece(three_threads, value, params, sparse):
    """The fused kernel finds NaN and infinity through the norms, in any piece."""
    X = np.random.default_rng(4).standard_normal((300, 24))
    relative = RelativeTransformer(**params, random_state=0).fit(X)
    bad = X.copy()
    bad[290, 5] = value  # in the last piece, on whichever thread takes it
    bad = sp.csr_matrix(bad) if sparse else bad
    with pytest.raises(ValueError, match=r"Input X contains (NaN|infinity)"):
        relative.transform(bad)


def test_the_fused_kernel_spares_the_separate_finiteness_pass(monkeypatch):
    """Validation skips its own pass over X exactly where the kernel checks."""
    import skrelrep.relative._validation as relative_input

    seen = []
    original = relative_input.validate_data

    def recording(estimator, X, **kwargs):
        seen.append(kwargs["ensure_all_finite"])
        return original(estimator, X, **kwargs)

    monkeypatch.setattr(relative_input, "validate_data", recording)
    X = np.random.default_rng(5).standard_normal((50, 6))
    fused = RelativeTransformer(5, random_state=0).fit(X)
    fused.transform(X)
    RelativeTransformer(5, top_k=2, random_state=0).fit(X).transform(X)
    assert seen == [True, False, True, True]  # fit, fused transform, fit, top-k
