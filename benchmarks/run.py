"""Benchmark the relative projection against the GEMM limit and its peers.

Usage, from the repository root (see benchmarks/README.md)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python -m benchmarks.run --quick
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python -m benchmarks.run --full

Each measurement runs in a fresh Python process, one after another, so that every
method's peak memory is its own and all methods of a shape see the same machine state.
Results go to ``benchmarks/results/<preset>/``: ``transform.csv``, ``selection.csv``,
``scaling.csv``, ``results.md`` and ``results.png``.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from . import _report
from ._methods import available_methods

ROOT = Path(__file__).resolve().parent.parent
STRATEGIES = ("random", "stratified", "fps", "kmeans")
# The code whose speed is measured (for the "uncommitted changes" note).
_MEASURED_FILES = (
    "skrelrep/relative",
    "skrelrep/similarity",
    "skrelrep/anchors",
    "skrelrep/utils",
    "benchmarks",
)

# The grid of shapes: n from 1e4 to 1e6, d and K from 64 to 2048, without the
# shapes this 2-core, 24 GiB machine cannot hold several copies of or take minutes
# per product on; the two target shapes are added.
_GRID_MAX_BYTES = 4 * 2**30  # input + output, float32
_GRID_MAX_FLOPS = 1e12


def _grid(ns, ds, ks, extra=()):
    shapes = [
        (n, d, k)
        for n in ns
        for d in ds
        for k in ks
        if 4 * n * (d + k) <= _GRID_MAX_BYTES and 2 * n * d * k <= _GRID_MAX_FLOPS
    ]
    return sorted(set(shapes) | set(extra))


PRESETS = {
    # About a minute: small shapes, latentis left out (its import alone takes ~20 s).
    "quick": {
        "shapes": [(10_000, 512, 300)],
        "dtypes": ["float32", "float64"],
        "repeats": 3,
        "skip_methods": {"latentis": "left out of --quick (its import takes ~20 s)"},
        "selection": (20_000, 256, 200),
        "selection_repeats": 1,
        "scaling": ((128, 256), [10_000, 100_000]),
        "grid": _grid([10_000, 100_000], [64, 768], [64, 1000]),
    },
    "full": {
        "shapes": [(10_000, 512, 300), (100_000, 768, 1000), (1_000_000, 128, 256)],
        "dtypes": ["float32", "float64"],
        "repeats": 5,
        "skip_methods": {},
        "selection": (100_000, 768, 1000),
        "selection_repeats": 3,
        "scaling": ((128, 256), [10_000, 30_000, 100_000, 300_000, 1_000_000]),
        "grid": _grid(
            [10_000, 100_000, 1_000_000],
            [64, 384, 2048],
            [64, 512, 2048],
            extra=[(1_000_000, 128, 256), (100_000, 768, 1000)],
        ),
    },
    # Tiny shapes for the test suite: checks the harness runs, not the machine.
    "smoke": {
        "shapes": [(300, 16, 8)],
        "dtypes": ["float32", "float64"],
        "repeats": 1,
        "skip_methods": {"latentis": "left out of the smoke run"},
        "selection": (400, 16, 10),
        "selection_repeats": 1,
        "scaling": ((16, 8), [200, 400]),
        "grid": [(300, 16, 8), (500, 8, 16)],
    },
}
# The grid compares the kernel with and without centring (float32) to the GEMMs.
GRID_METHODS = ("skrelrep", "skrelrep_centered")


def _transform_spec(method, n, d, k, dtype, repeats):
    return dict(
        kind="transform", method=method, n=n, d=d, k=k, dtype=dtype, repeats=repeats
    )


def _run_one(spec, *, isolate, timeout):
    """One measurement, in a fresh process unless ``isolate`` is False."""
    if not isolate:
        from ._measure import measure

        try:
            return measure(spec)
        except Exception as error:  # reported in the table
            return {**spec, "error": repr(error)}
    command = [sys.executable, "-m", "benchmarks._measure", json.dumps(spec)]
    # A fixed mmap threshold stops glibc from keeping a freed output in its heap
    # after the warm-up run, which would hide the next run's output from the peak.
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(2**17)}
    try:
        completed = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {**spec, "error": f"timed out after {timeout} s"}
    for line in completed.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    tail = (completed.stderr or completed.stdout).strip().splitlines()[-1:]
    return {**spec, "error": tail[0] if tail else f"exit code {completed.returncode}"}


def _progress(row):
    name = row.get("method") or row.get("strategy")
    shape = f"({row['n']},{row['d']},{row['k']}) {row['dtype']}"
    if "error" in row:
        print(f"  {shape:28} {name:15} FAILED: {row['error']}", flush=True)
        return
    memory = row.get("peak_extra_mib", float("nan"))
    print(
        f"  {shape:28} {name:15} {row['time_s']:9.4f} s  peak +{memory:8.1f} MiB",
        flush=True,
    )


def _machine():
    import numpy as np
    from threadpoolctl import threadpool_info

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
    memory = ""
    try:
        memory = f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB"
    except (ValueError, OSError):
        pass
    blas = next((i for i in threadpool_info() if i.get("user_api") == "blas"), {})
    return {
        "cpu": f"{model}, {os.cpu_count()} cores, {memory}",
        "blas": f"{blas.get('internal_api')} {blas.get('version')}, kernel "
        f"{blas.get('architecture')}, {blas.get('num_threads')} threads",
        "OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE": f"{os.environ.get('OPENBLAS_CORETYPE', 'unset')}"
        f" / {os.environ.get('OPENBLAS_L2_SIZE', 'unset')}",
        "python / numpy": f"{platform.python_version()} / {np.__version__}",
    }


def _versions():
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in ("scikit-learn", "scipy", "torch", "latentis"):
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} not installed")
    return ", ".join(found)


def _commit():
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", *_MEASURED_FILES],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return head + (" (with uncommitted changes to the measured code)" if dirty else "")


def run_benchmarks(
    preset="quick",
    *,
    out_dir=None,
    isolate=True,
    methods=None,
    parts=None,
    repeats=None,
    timeout=900,
    plot=True,
):
    """Run the benchmarks of ``preset`` and write the result files; return the rows.

    Parameters
    ----------
    preset : {"quick", "full", "smoke"}
    out_dir : path, default=benchmarks/results/<preset>
    isolate : bool, default=True
        One fresh process per measurement (honest peaks); False runs in-process.
    methods : list of str, default=None
        Projection methods to compare (default: all available).
    parts : set of {"transform", "selection", "scaling", "grid", "compare"}, default=None
        None: the first four; ``"compare"`` (``compare_spaces`` against its k-NN
        searches, ``bench_compare.py``) runs only when named.
    repeats : int, default=None
        Timed repeats per measurement (the median is reported); default per preset.
    timeout : float
        Seconds one measurement may take before it is reported as timed out.
    plot : bool
        Whether to draw ``results.png`` (needs matplotlib).
    """
    config = PRESETS[preset]
    parts = set(parts or ("transform", "selection", "scaling", "grid"))
    repeats = repeats or config["repeats"]
    out_dir = Path(out_dir or ROOT / "benchmarks" / "results" / preset)
    out_dir.mkdir(parents=True, exist_ok=True)
    skipped = {name: why for name, why in available_methods().items() if why}
    skipped.update(config["skip_methods"])
    chosen = [m for m in (methods or available_methods()) if m not in skipped]
    if "gemm" not in chosen:
        chosen.insert(0, "gemm")  # every ratio is to it
    meta = {
        "preset": preset,
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        **_machine(),
        "packages": _versions(),
        "commit": _commit(),
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "isolation": "one process per measurement"
        if isolate
        else "in-process (peaks only indicative)",
        "repeats": f"median of {repeats} timed runs after one warm-up run",
        "skipped methods": "; ".join(f"{k}: {v}" for k, v in skipped.items()) or "none",
    }
    for key, value in meta.items():
        print(f"{key}: {value}")
    run = lambda spec: _run_one(spec, isolate=isolate, timeout=timeout)  # noqa: E731
    transform, selection, scaling, grid = [], [], [], []
    if "transform" in parts:
        print("projection:")
        for n, d, k in config["shapes"]:
            for dtype in config["dtypes"]:
                for method in chosen:
                    transform.append(
                        run(_transform_spec(method, n, d, k, dtype, repeats))
                    )
                    _progress(transform[-1])
        _report.add_ratios(transform)
    if "selection" in parts:
        print("anchor selection (fit):")
        n, d, k = config["selection"]
        for strategy in STRATEGIES:
            spec = dict(
                kind="selection",
                strategy=strategy,
                n=n,
                d=d,
                k=k,
                dtype="float32",
                repeats=config["selection_repeats"],
            )
            selection.append(run(spec))
            _progress(selection[-1])
    if "scaling" in parts:
        print("scaling in n:")
        (d, k), sizes = config["scaling"]
        for n in sizes:
            for method in ("gemm", "skrelrep"):
                spec = _transform_spec(method, n, d, k, "float32", repeats)
                scaling.append(run(spec))
                _progress(scaling[-1])
        _report.add_ratios(scaling)
    if "grid" in parts:
        print("grid of shapes (float32):")
        for n, d, k in config["grid"]:
            # Products of a few milliseconds vary most from run to run.
            times = max(repeats, 11 if 2 * n * d * k >= 1e10 else 21)
            for method in GRID_METHODS:
                grid.append(run(_transform_spec(method, n, d, k, "float32", times)))
                _progress(grid[-1])
    compare = None
    if "compare" in parts:
        print("compare_spaces against its exact k-NN searches:")
        # One measurement of several minutes at full size: its own time limit.
        compare = _run_compare(preset, out_dir, isolate=isolate, timeout=4 * 3600)
    meta["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    for name, rows in (
        ("transform", transform),
        ("selection", selection),
        ("scaling", scaling),
        ("grid", grid),
    ):
        if rows:
            _report.write_csv(rows, out_dir / f"{name}.csv")
    _report.write_markdown(
        out_dir / "results.md", meta, transform, selection, scaling, grid
    )
    if plot and (transform or scaling):
        _report.plot(out_dir / "results.png", transform, scaling)
    print(f"\nresults written to {out_dir}")
    for target, measured, verdict in _report.check_targets(
        transform, selection, scaling, grid
    ):
        print(
            f"  [{ {True: 'met', False: 'NOT MET', None: 'info'}[verdict]:7}] {target}: {measured}"
        )
    return {
        "meta": meta,
        "transform": transform,
        "selection": selection,
        "scaling": scaling,
        "grid": grid,
        "compare": compare,
    }


def _run_compare(preset, out_dir, *, isolate, timeout):
    """``bench_compare`` at the preset's size; its table goes to ``compare.md``."""
    argv = ["--preset", preset, "--out", str(out_dir / "compare.md")]
    if not isolate:
        from .bench_compare import main as bench_compare

        return bench_compare(argv)
    command = [sys.executable, "-m", "benchmarks.bench_compare", *argv]
    try:
        completed = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        print(f"  FAILED: timed out after {timeout} s", flush=True)
        return None
    print(completed.stdout or completed.stderr, flush=True)
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--quick",
        dest="preset",
        action="store_const",
        const="quick",
        help="small shapes, about a minute",
    )
    group.add_argument(
        "--full",
        dest="preset",
        action="store_const",
        const="full",
        help="every shape, the grid included (tens of minutes)",
    )
    group.add_argument("--preset", choices=sorted(PRESETS))
    parser.add_argument("--methods", nargs="+", help="projection methods to compare")
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=["transform", "selection", "scaling", "grid", "compare"],
    )
    parser.add_argument("--repeats", type=int, help="timed runs per measurement")
    parser.add_argument("--out", help="output folder")
    parser.add_argument(
        "--in-process", action="store_true", help="no subprocess per measurement"
    )
    parser.add_argument(
        "--timeout", type=float, default=900, help="seconds per measurement"
    )
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args(argv)
    run_benchmarks(
        args.preset or "quick",
        out_dir=args.out,
        isolate=not args.in_process,
        methods=args.methods,
        parts=args.parts,
        repeats=args.repeats,
        timeout=args.timeout,
        plot=not args.no_plot,
    )


if __name__ == "__main__":
    main()
