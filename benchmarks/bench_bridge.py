"""QueryBridge's fit time: a 6,000-row index, 1,000 anchors, 3,000 unpaired queries.

Usage, from the repository root::

    .venv/bin/python -m benchmarks.bench_bridge            # the issue's shape
    .venv/bin/python -m benchmarks.bench_bridge --quick    # a few seconds (smoke test)
    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.bench_bridge --repeats 1

The data are the fortunes embeddings that ``scripts/measure_bridge.py embed`` caches
(e5 queries, MiniLM-L6 index) when they are there, otherwise fabricated 384-d
clustered spaces of the same shape (a rotated, noisy copy). Each fit is timed in wall
and CPU seconds (CPU time adds up every thread's); the BLAS threads are whatever the
environment allows. Wall time on a shared machine depends on its load: the CPU time
divided by the cores bounds what an idle machine would take.
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np

from skrelrep.retrieval import QueryBridge

__all__ = ["make_data", "run", "to_markdown"]

CACHE = Path(os.environ.get("SKRELREP_BRIDGE_CACHE", "/work/cache"))


def make_data(n_index=6000, n_anchors=1000, n_unpaired=3000, n_features=384, seed=0):
    """``(anchors_new, anchors_old, index, unpaired, source)``."""
    rng = np.random.RandomState(seed)
    cached = [CACHE / f"bridge_{name}.npy" for name in ("L6_docs", "e5_docs")]
    queries = CACHE / "bridge_e5_queries.npy"
    n_total = n_index + n_unpaired
    if all(path.exists() for path in [*cached, queries]):
        old, new = (np.load(path, mmap_mode="r") for path in cached)
        if old.shape[0] >= n_total and n_features == old.shape[1]:
            order = rng.permutation(old.shape[0])
            index = np.asarray(old[np.sort(order[:n_index])])
            anchors = np.sort(rng.choice(n_index, n_anchors, replace=False))
            unpaired = np.asarray(
                np.load(queries, mmap_mode="r")[np.sort(order[n_index:n_total])]
            )
            anchors_new = np.asarray(new[np.sort(order[:n_index])][anchors])
            return anchors_new, index[anchors], index, unpaired, "fortunes, e5 -> L6"
    centres = rng.normal(size=(50, n_features))
    old = centres[rng.randint(50, size=n_total)] + rng.normal(
        size=(n_total, n_features)
    )
    rotation = np.linalg.qr(rng.normal(size=(n_features, n_features)))[0]
    new = old @ rotation + 0.3 * rng.normal(size=old.shape)
    old, new = old.astype(np.float32), new.astype(np.float32)
    anchors = rng.choice(n_index, n_anchors, replace=False)
    return (
        new[anchors],
        old[anchors],
        old[:n_index],
        new[n_index:],
        "fabricated (rotated, noisy copy)",
    )


def run(n_index=6000, n_anchors=1000, n_unpaired=3000, repeats=1):
    """One row per repeat: wall and CPU seconds of ``fit``, and the chosen settings."""
    anchors_new, anchors_old, index, unpaired, source = make_data(
        n_index, n_anchors, n_unpaired
    )
    rows = []
    for repeat in range(repeats):
        bridge = QueryBridge(random_state=repeat)
        wall, cpu = time.perf_counter(), time.process_time()
        bridge.fit(anchors_new, anchors_old, index=index, unpaired_queries=unpaired)
        rows.append(
            {
                "data": source,
                "index": index.shape[0],
                "anchors": anchors_new.shape[0],
                "unpaired": unpaired.shape[0],
                "wall_s": time.perf_counter() - wall,
                "cpu_s": time.process_time() - cpu,
                "rounds": bridge.n_rounds_,
                "epochs": bridge.n_epochs_,
                "cv_recall@10": bridge.cv_score_,
            }
        )
    return rows


def to_markdown(rows):
    lines = [
        "| data | index | anchors | unpaired | fit wall (s) | fit CPU (s) | rounds "
        "| epochs |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['data']} | {row['index']:,} | {row['anchors']:,} | "
            f"{row['unpaired']:,} | {row['wall_s']:.1f} | {row['cpu_s']:.1f} | "
            f"{row['rounds']} | {row['epochs']} |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.quick:
        rows = run(n_index=600, n_anchors=100, n_unpaired=300, repeats=1)
    else:
        rows = run(repeats=args.repeats)
    print(to_markdown(rows))


if __name__ == "__main__":
    main()
