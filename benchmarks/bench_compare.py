"""``compare_spaces`` at scale, against the exact k-NN searches it cannot avoid.

Usage, from the repository root::

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.bench_compare            # 50k, ~4 min
    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.bench_compare --quick    # 5k, seconds
    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.bench_compare --n 1000000 \\
        --dims 128 256 --knn faiss --no-baseline                              # approximate

Two related spaces of the same items (a shared clustered latent, mapped to each width,
plus noise; float32) are compared with ``compare_spaces(A, B, k=10, n_anchors=300,
n_permutations=99)``. In the same process, first, the baselines: the exact k-NN
search of each space alone, a chunked cosine GEMM and ``argpartition`` per chunk of
rows, and the same GEMMs alone (the least any exact neighbour measure costs; the
targets are judged on this stricter one). Reported: the times, the ratios, and the
peak resident memory of ``compare_spaces`` beyond its inputs. With
``--phases``, the parts of ``compare_spaces`` are also timed one by one. Targets at
(50k, 384/768, 99 permutations): at most 2.5x the baseline, at most 1 GiB beyond the
inputs. Compare times from one run only: the machine's load drifts.
"""

import argparse
import os
import platform
import time

import numpy as np
from sklearn.utils import gen_batches

from skrelrep.metrics._knn import CHUNK_BYTES, ProductBuffer
from skrelrep.utils._chunks import chunk_n_rows
from skrelrep.utils._norms import normalize_rows

from ._data import make_embeddings
from ._measure import _timed_call

__all__ = ["make_pair", "run"]

PRESETS = {
    "full": {"n": 50_000, "dims": (384, 768), "permutations": 99},
    "quick": {"n": 5_000, "dims": (384, 768), "permutations": 99},
    "smoke": {"n": 400, "dims": (16, 24), "permutations": 9},
}
TARGETS = {"ratio": 2.5, "memory_mib": 1024}
_LATENT = 64
_GENERATE_ROWS = 32_768


def make_pair(n_samples, width_a, width_b, *, seed=0):
    """Two float32 spaces of the same items: a shared latent, mapped and noised."""
    rng = np.random.default_rng(seed + 10)
    latent = make_embeddings(n_samples, _LATENT, np.float32, seed=seed)
    spaces = []
    for width in (width_a, width_b):
        mapping = rng.standard_normal((_LATENT, width), dtype=np.float32)
        X = np.empty((n_samples, width), dtype=np.float32)
        for rows in gen_batches(n_samples, _GENERATE_ROWS):
            X[rows] = latent[rows] @ mapping
            X[rows] += 4 * rng.standard_normal(X[rows].shape, dtype=np.float32)
        spaces.append(X)
    return spaces


def exact_knn(X, k, *, select=True):
    """The baseline: each row's k nearest other rows, chunked GEMM + argpartition.

    With ``select=False``, the GEMMs alone: the floor of any exact search. Each
    chunk's product is written into the same buffer, as in ``compare_spaces`` (a
    fresh output per chunk is paged in anew, which on these VMs slows the GEMMs
    by up to 2x).
    """
    unit = normalize_rows(X, np)
    n = unit.shape[0]
    chunk = chunk_n_rows(n, n * (unit.itemsize + 2), max_bytes=CHUNK_BYTES)
    table = np.empty((n, k), dtype=np.intp)
    product = ProductBuffer(chunk, n, unit.dtype)  # as compare_spaces: one output
    for rows in gen_batches(n, chunk):
        similarities = product(unit[rows], unit)
        if not select:
            continue
        similarities[
            np.arange(similarities.shape[0]), np.arange(rows.start, rows.stop)
        ] = -np.inf
        table[rows] = np.argpartition(similarities, -k, axis=1)[:, -k:]
    return table


def _phases(A, B, k, n_permutations, batch_size=None):
    """Each part of compare_spaces timed on its own (CPU seconds)."""
    from skrelrep import RelativeTransformer
    from skrelrep.metrics._cka import CKAParts
    from skrelrep.metrics._neighbourhoods import space_table
    from skrelrep.metrics._retrieval import agreement_scores, retrieval_tables

    times = {}
    start = time.process_time()
    relative = RelativeTransformer(n_anchors=300, random_state=0).fit(A)
    other = relative.reanchor(B[relative.anchor_indices_])
    held = np.setdiff1d(np.arange(A.shape[0]), relative.anchor_indices_)
    codes_a, codes_b = relative.transform(A)[held], other.transform(B)[held]
    times["relative codes"] = time.process_time() - start
    start = time.process_time()
    table_a, table_b = space_table(A, k), space_table(B, k)
    times["k-NN tables of A and B"] = time.process_time() - start
    start = time.process_time()
    truth, found = retrieval_tables(codes_a, codes_b, k=k)
    times["retrieval tables of the codes"] = time.process_time() - start
    start = time.process_time()
    cka = CKAParts(A, B)
    cka.observed()
    times["CKA terms"] = time.process_time() - start
    rng = np.random.RandomState(0)
    orders = [rng.permutation(A.shape[0]) for _ in range(n_permutations)]
    held_orders = [rng.permutation(held.shape[0]) for _ in range(n_permutations)]
    start = time.process_time()
    for order in orders:
        cka.permuted(order)
    times[f"CKA nulls ({n_permutations})"] = time.process_time() - start
    start = time.process_time()
    for order, held_order in zip(orders, held_orders, strict=True):
        relabel = np.empty_like(order)
        relabel[order] = np.arange(order.shape[0])
        table_a.shared(table_b, rows=order, relabel=relabel)
        agreement_scores(truth, found, held_order)
    times[f"neighbour nulls ({n_permutations})"] = time.process_time() - start
    return times


def _timed(function):
    """``function()``: its result, wall and CPU seconds, and extra peak memory (MiB).

    The CPU time of this process is what the ratios use: on a shared machine the
    wall time also counts the other processes' load, which drifts within a run.
    """
    start = time.process_time()
    result, wall, peak = _timed_call(function)
    return result, wall, time.process_time() - start, peak


def run(
    n,
    dims,
    n_permutations,
    *,
    k=10,
    knn="exact",
    baseline=True,
    argpartition=True,
    phases=False,
):
    """Measure; return a dict of the figures."""
    from skrelrep.metrics import compare_spaces

    A, B = make_pair(n, *dims)
    row = {"n": n, "dims": f"{dims[0]}/{dims[1]}", "permutations": n_permutations}
    row["knn"] = knn
    row["load_start"] = os.getloadavg()[0]
    if baseline:
        _, row["gemm_wall_s"], row["gemm_s"], _ = _timed(
            lambda: (exact_knn(A, k, select=False), exact_knn(B, k, select=False))
        )
        if argpartition:
            timed = _timed(lambda: (exact_knn(A, k), exact_knn(B, k)))
            _, row["baseline_wall_s"], row["baseline_s"], row["baseline_peak_mib"] = (
                timed
            )
    comparison, row["compare_wall_s"], row["compare_s"], row["compare_peak_mib"] = (
        _timed(
            lambda: compare_spaces(
                A,
                B,
                k=k,
                n_anchors=300,
                n_permutations=n_permutations,
                knn_algorithm=knn,
            )
        )
    )
    row["load_end"] = os.getloadavg()[0]
    if baseline:
        if argpartition:
            row["ratio"] = row["compare_s"] / row["baseline_s"]
        row["ratio_gemm"] = row["compare_s"] / row["gemm_s"]
    row["metrics"] = {
        name: round(value, 4) for name, value in comparison.metrics.items()
    }
    if phases:
        row["phases"] = _phases(A, B, k, n_permutations)
    return row


def _machine():
    model = platform.processor()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(
                line.split(":", 1)[1].strip()
                for line in cpuinfo
                if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    return f"{model}, {os.cpu_count()} cores (OMP_NUM_THREADS={threads})"


def report(row):
    """The figures as Markdown lines."""
    lines = [
        f"machine: {_machine()}; load average {row['load_start']:.1f} at the start, "
        f"{row['load_end']:.1f} at the end; times are this process's CPU seconds "
        "(wall seconds in brackets)",
        "",
    ]
    lines.append(
        "| n | widths | permutations | k-NN | GEMMs alone (s) | GEMMs + argpartition (s) "
        "| compare_spaces (s) | ratio to GEMMs + argpartition | ratio to GEMMs alone "
        "| peak beyond inputs (MiB) |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    figure = lambda name, unit="", digits=1: (  # noqa: E731
        f"{row[name]:.{digits}f}{unit}" if name in row else "-"
    )
    lines.append(
        f"| {row['n']:,} | {row['dims']} | {row['permutations']} | {row['knn']} | "
        f"{figure('gemm_s')} ({figure('gemm_wall_s')}) | "
        f"{figure('baseline_s')} ({figure('baseline_wall_s')}) | "
        f"{row['compare_s']:.1f} ({row['compare_wall_s']:.1f}) | "
        f"{figure('ratio', 'x', 2)} | {figure('ratio_gemm', 'x', 2)} | "
        f"{row['compare_peak_mib']:.0f} |"
    )
    recall = {k: v for k, v in row["metrics"].items() if k.startswith("knn_recall")}
    if recall:
        lines += [
            "",
            "recall of the approximate search: "
            + ", ".join(f"{k} {v:.3f}" for k, v in recall.items()),
        ]
    if "phases" in row:
        lines += ["", "| part of compare_spaces, timed alone | CPU s |", "|---|---|"]
        lines += [
            f"| {name} | {seconds:.1f} |" for name, seconds in row["phases"].items()
        ]
    if "ratio_gemm" in row and row["n"] >= PRESETS["full"]["n"]:
        met = (
            row["ratio_gemm"] <= TARGETS["ratio"]
            and row["compare_peak_mib"] <= TARGETS["memory_mib"]
        )
        lines += [
            "",
            f"targets (<= {TARGETS['ratio']}x, <= {TARGETS['memory_mib']} MiB): {'met' if met else 'NOT MET'}",
        ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5k items")
    parser.add_argument("--preset", choices=sorted(PRESETS))
    parser.add_argument("--n", type=int, help="items")
    parser.add_argument("--dims", type=int, nargs=2, help="widths of A and B")
    parser.add_argument("--permutations", type=int)
    parser.add_argument("--knn", choices=["exact", "faiss"], default="exact")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--no-argpartition",
        action="store_true",
        help="time the GEMMs alone as the baseline, not GEMMs + argpartition",
    )
    parser.add_argument("--phases", action="store_true", help="time each part too")
    parser.add_argument("--out", help="also write the Markdown here")
    args = parser.parse_args(argv)
    preset = PRESETS[args.preset or ("quick" if args.quick else "full")]
    row = run(
        args.n or preset["n"],
        tuple(args.dims or preset["dims"]),
        preset["permutations"] if args.permutations is None else args.permutations,
        knn=args.knn,
        baseline=not args.no_baseline,
        argpartition=not args.no_argpartition,
        phases=args.phases,
    )
    text = report(row)
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text + "\n")
    return row


if __name__ == "__main__":
    main()
