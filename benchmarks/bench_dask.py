"""Throughput of ``RelativeTransformer.transform`` on a dask array, 1 and 2 workers.

Usage, from the repository root::

    .venv/bin/python -m benchmarks.bench_dask            # about a minute
    .venv/bin/python -m benchmarks.bench_dask --rows 1000000 --features 768

For each worker count a fresh ``distributed.LocalCluster`` (one single-threaded worker
process each, as on a cluster node per core) holds the input persisted in its memory,
so the timing covers projection, scheduling and the reduction of the result, not data
generation or I/O. The output is reduced on the workers (``.sum()``), never gathered.

Also measured, to build the scaling estimate in ``docs/dask.rst``, as CPU time (which
hardly depends on the machine's load, unlike wall time):

- the per-chunk cost: the NumPy path on one chunk in this process, one BLAS thread;
- per chunk of a cluster run: the CPU time of all workers, and of this process, which
  runs the client and the LocalCluster's scheduler (the scheduling cost);
- the dispatch cost: workers' plus scheduler's CPU time per chunk of a near-free pass
  over the same blocks (``.sum()`` of the persisted input).

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


def _timed_runs(client, repeats, function):
    """Best wall time, and mean CPU seconds per run of the workers and of this process.

    This process runs the client and the LocalCluster's scheduler, so its CPU time is
    the scheduling cost. CPU times hardly depend on the machine's load; wall times do.
    """
    workers_before, here_before = client.run(time.process_time), time.process_time()
    wall = _best_of(repeats, function)
    workers_after, here_after = client.run(time.process_time), time.process_time()
    worker_cpu = sum(workers_after[w] - workers_before[w] for w in workers_before)
    return wall, worker_cpu / repeats, (here_after - here_before) / repeats


def _chunk_cost(args):
    """Seconds for the NumPy path on one chunk, one thread (the per-task work)."""
    from threadpoolctl import threadpool_limits

    from skrelrep import RelativeTransformer

    rng = np.random.default_rng(0)
    chunk = rng.random((args.chunk_rows, args.features), dtype=np.float32)
    relative = RelativeTransformer(args.anchors, random_state=0).fit(chunk)
    with threadpool_limits(1):
        relative.transform(chunk)  # warm-up
        cpu = time.process_time()
        wall = _best_of(args.repeats, lambda: relative.transform(chunk))
        return wall, (time.process_time() - cpu) / args.repeats


def _cluster_run(args, n_workers):
    import dask.array as da
    from distributed import Client, LocalCluster, wait

    from skrelrep import RelativeTransformer

    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
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
        run = _timed_runs(client, args.repeats, projected.compute)
        # The same graph shape with almost no work per block: the dispatch overhead.
        baseline = _timed_runs(client, args.repeats, X.sum().compute)
        client.cancel(X)
    return run, baseline


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
    chunk_wall, chunk_cpu = _chunk_cost(args)
    print(
        f"per-chunk cost (NumPy path, 1 thread): best {chunk_wall * 1e3:.1f} ms wall, "
        f"{chunk_cpu * 1e3:.1f} ms CPU = {args.chunk_rows / chunk_cpu:,.0f} rows/s "
        "per core"
    )
    print(
        "workers   wall s       rows/s   worker CPU/chunk   scheduler CPU/chunk"
        "   dispatch CPU/chunk"
    )
    for n_workers in args.workers:
        (wall, worker_cpu, scheduler_cpu), (_, base_worker, base_scheduler) = (
            _cluster_run(args, n_workers)
        )
        print(
            f"{n_workers:>7} {wall:>8.3f} {args.rows / wall:>12,.0f} "
            f"{worker_cpu / n_chunks * 1e3:>15.1f} ms "
            f"{scheduler_cpu / n_chunks * 1e3:>18.1f} ms "
            f"{(base_worker + base_scheduler) / n_chunks * 1e3:>17.1f} ms"
        )


if __name__ == "__main__":
    main()
