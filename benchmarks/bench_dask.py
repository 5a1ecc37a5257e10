"""Throughput of ``RelativeTransformer.transform`` on a dask array, 1 and 2 workers.

Usage, from the repository root::

    .venv/bin/python -m benchmarks.bench_dask            # about a minute
    .venv/bin/python -m benchmarks.bench_dask --rows 1000000 --features 768

For each worker count a fresh ``distributed.LocalCluster`` (one single-threaded worker
process each, as on a cluster node per core) holds the input persisted in its memory,
so the timing covers projection, scheduling and the reduction of the result, not data
generation or I/O. The output is reduced on the workers (``.sum()``), never gathered.

Also measured, to build the scaling estimate in ``docs/dask.rst``:

- the per-chunk cost: the NumPy path on one chunk in this process, one BLAS thread;
- the per-chunk overhead: a near-free blockwise pass (``.sum()`` of the persisted
  input) on the same cluster, i.e. what scheduling and task dispatch cost per chunk.

Rows/s on a shared machine depend on its load: compare numbers from one run only.
"""

import argparse
import os
import time

import numpy as np


def _best_of(repeats, function):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def _chunk_cost(args):
    """Seconds for the NumPy path on one chunk, one thread (the per-task work)."""
    from threadpoolctl import threadpool_limits

    from skrelrep import RelativeTransformer

    rng = np.random.default_rng(0)
    chunk = rng.random((args.chunk_rows, args.features), dtype=np.float32)
    relative = RelativeTransformer(args.anchors, random_state=0).fit(chunk)
    with threadpool_limits(1):
        relative.transform(chunk)  # warm-up
        return _best_of(args.repeats, lambda: relative.transform(chunk))


def _cluster_run(args, n_workers):
    import dask.array as da
    from distributed import Client, LocalCluster, wait

    from skrelrep import RelativeTransformer

    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        X = da.random.default_rng(0).random(
            (args.rows, args.features),
            chunks=(args.chunk_rows, args.features),
            dtype=np.float32,
        )
        X = X.persist()
        wait(X)
        relative = RelativeTransformer(args.anchors, random_state=0).fit(X)
        projected = relative.transform(X).sum()
        projected.compute()  # warm-up: imports on the workers, anchors shipped
        seconds = _best_of(args.repeats, projected.compute)
        overhead = _best_of(args.repeats, X.sum().compute)
        client.cancel(X)
    return seconds, overhead


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=256)
    parser.add_argument("--anchors", type=int, default=300)
    parser.add_argument("--chunk-rows", type=int, default=10_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    n_chunks = -(-args.rows // args.chunk_rows)
    print(
        f"X: {args.rows} x {args.features} float32 "
        f"({args.rows * args.features * 4 / 2**20:.0f} MiB) in {n_chunks} chunks of "
        f"{args.chunk_rows} rows; {args.anchors} anchors; "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    chunk_seconds = _chunk_cost(args)
    print(
        f"per-chunk cost (NumPy path, 1 thread): {chunk_seconds * 1e3:.1f} ms "
        f"= {args.chunk_rows / chunk_seconds:,.0f} rows/s per core"
    )
    print(f"{'workers':>7} {'seconds':>8} {'rows/s':>12} {'overhead/chunk':>15}")
    for n_workers in args.workers:
        seconds, overhead = _cluster_run(args, n_workers)
        print(
            f"{n_workers:>7} {seconds:>8.3f} {args.rows / seconds:>12,.0f} "
            f"{overhead * n_workers / n_chunks * 1e3:>12.1f} ms"
        )


if __name__ == "__main__":
    main()
