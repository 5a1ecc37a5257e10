"""One measurement: time and peak memory of one method (or selection) on one shape.

Run by ``run.py`` in a fresh process per measurement (``python -m
benchmarks._measure '<json spec>'``) so that each peak is the method's own; it can
also run in-process (the smoke test does), where peaks are only indicative.
"""

import functools
import gc
import json
import os
import statistics
import sys
import time

import numpy as np

from ._data import anchor_indices, make_embeddings, make_labels
from ._methods import METHODS

__all__ = ["measure"]

_MiB = 2**20
# Rows on which every method's output is checked against a float64 reference.
_CHECK_ROWS = 256
# Rows on which an anchor set's coverage (distance to the nearest anchor) is measured.
_COVERAGE_ROWS = 4096


def _proc_status_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_peak():
    """Reset the kernel's high-water mark of resident memory (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def _memory_mib():
    """Resident and peak resident memory of this process, in MiB."""
    try:
        return _proc_status_kib("VmRSS") / 1024, _proc_status_kib("VmHWM") / 1024
    except (OSError, KeyError):  # not Linux: peak since process start only
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return peak, peak


def _timed_call(function):
    """Call ``function``; return its result, wall time and extra peak memory (MiB)."""
    gc.collect()
    _reset_peak()
    rss_before, _ = _memory_mib()
    start = time.perf_counter()
    result = function()
    elapsed = time.perf_counter() - start
    _, peak = _memory_mib()
    return result, elapsed, max(0.0, peak - rss_before)


@functools.cache
def _blas_info():
    from threadpoolctl import threadpool_info

    info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    if not info:
        return {}
    blas = info[0]
    return {
        "blas": blas.get("internal_api"),
        "blas_kernel": blas.get("architecture"),
        "blas_threads": blas.get("num_threads"),
    }


def _skrelrep_piece_rows(n_samples, n_features, n_anchors, dtype):
    """Rows per piece that ``RelativeTransformer.transform`` uses on NumPy input."""
    from skrelrep.similarity._cosine import kernel_threads, piece_rows

    itemsize = np.dtype(dtype).itemsize
    threads = kernel_threads(n_samples, n_features, n_anchors)
    return piece_rows(n_samples, n_features, n_anchors, itemsize, threads=threads)


def _max_error(output, X, A, reference):
    """Largest deviation of the first rows of ``output`` from a float64 reference."""
    rows = min(_CHECK_ROWS, X.shape[0])
    X64, A64 = X[:rows].astype(np.float64), A.astype(np.float64)
    if reference == "centred":
        mean = A64.mean(axis=0)
        X64, A64 = X64 - mean, A64 - mean
    X64 /= np.linalg.norm(X64, axis=1, keepdims=True)
    A64 /= np.linalg.norm(A64, axis=1, keepdims=True)
    return float(
        np.max(np.abs(np.asarray(output[:rows], dtype=np.float64) - X64 @ A64.T))
    )


# What every method is timed against, alternately, in its own process: the GEMM of
# inputs normalised beforehand, returning a new array (as a transform must), and the
# same GEMM into an output allocated beforehand (no allocation, no page faults).
BASELINES = ("gemm", "gemm_into")


def _measure_transform(spec):
    """Time ``spec["method"]`` and, interleaved with it, the GEMMs of the same data.

    On a shared machine the load drifts; pairing each run of the method with GEMM
    runs in the same process, rotating which goes first, gives ratios that drift far
    less than times taken minutes apart.
    """
    n, d, k, dtype = spec["n"], spec["d"], spec["k"], spec["dtype"]
    prepare, _, reference = METHODS[spec["method"]]
    X = make_embeddings(n, d, dtype, seed=spec.get("seed", 0))
    A = np.ascontiguousarray(X[anchor_indices(n, k, seed=spec.get("seed", 0))])
    project = prepare(X, A)
    paired = spec["method"] not in BASELINES
    baselines = {name: METHODS[name][0](X, A) for name in BASELINES} if paired else {}
    result = {"peak_reset": _reset_peak()}
    project()  # warm-up: thread pools, lazy imports, first-touch of library state
    for baseline in baselines.values():
        baseline()
    times, peaks = [], []
    baseline_times = {name: [] for name in baselines}
    calls = [("method", project), *baselines.items()]
    budget_s = spec.get("budget_s", 300)
    spent = 0.0
    for repeat in range(spec["repeats"]):
        shift = repeat % len(calls)
        for name, function in calls[shift:] + calls[:shift]:
            output, elapsed, peak = _timed_call(function)
            spent += elapsed
            if name != "method":
                baseline_times[name].append(elapsed)
            else:
                times.append(elapsed)
                peaks.append(peak)
                if repeat == 0:
                    result["out_dtype"] = str(output.dtype)
                    result["max_error"] = (
                        _max_error(output, X, A, reference) if reference else None
                    )
            del output
        if spent > budget_s:
            break
    itemsize = np.dtype(dtype).itemsize
    median = statistics.median(times)
    result.update(
        times=times,
        time_s=median,
        min_time_s=min(times),
        gflops=2 * n * d * k / median / 1e9,
        input_mib=n * d * itemsize / _MiB,
        output_mib=n * k * itemsize / _MiB,
        peak_extra_mib=max(peaks),
    )
    result["gemm_time_s"] = median
    result["ratio_to_gemm"] = 1.0
    for name, measured in baseline_times.items():
        suffix = "" if name == "gemm" else "_into"
        result[f"gemm{suffix}_times"] = measured
        result[f"gemm{suffix}_time_s"] = statistics.median(measured)
        result[f"ratio_to_gemm{suffix}"] = statistics.median(
            t / g for t, g in zip(times, measured, strict=True)
        )
        # Noise on a shared machine only ever adds time, and slow spells can last
        # several calls (beyond what pairing evens out): the best run of each is
        # the other estimate of what the method costs.
        result[f"best_ratio_to_gemm{suffix}"] = min(times) / min(measured)
    if spec["method"].startswith("skrelrep"):
        result["chunk_rows"] = _skrelrep_piece_rows(n, d, k, dtype)
    if spec["method"] in ("torch", "latentis"):
        import torch

        result["torch_threads"] = torch.get_num_threads()
    return result


def _coverage(X, anchors_unit, seed):
    """Mean cosine distance from a sample of rows to their nearest anchor."""
    rows = np.random.default_rng(seed + 3).choice(
        X.shape[0], min(_COVERAGE_ROWS, X.shape[0]), replace=False
    )
    sample = X[rows].astype(np.float64)
    sample /= np.linalg.norm(sample, axis=1, keepdims=True)
    return float(
        np.mean(1 - np.max(sample @ anchors_unit.astype(np.float64).T, axis=1))
    )


def _measure_selection(spec):
    """Time ``fit`` with one selection strategy, paired with one GEMM of the shape."""
    from skrelrep import RelativeTransformer

    n, d, k, dtype = spec["n"], spec["d"], spec["k"], spec["dtype"]
    seed = spec.get("seed", 0)
    X = make_embeddings(n, d, dtype, seed=seed)
    y = make_labels(n, seed=seed)
    gemm = METHODS["gemm"][0](X, X[anchor_indices(n, k, seed)])
    gemm()  # warm-up

    def fit():
        return RelativeTransformer(
            n_anchors=k, anchor_selection=spec["strategy"], random_state=seed
        ).fit(X, y)

    times, gemm_times, peaks = [], [], []
    for repeat in range(spec["repeats"]):
        if repeat % 2 == 1:
            gemm_times.append(_timed_call(gemm)[1])
        relative, elapsed, peak = _timed_call(fit)
        times.append(elapsed)
        peaks.append(peak)
        if repeat % 2 == 0:
            gemm_times.append(_timed_call(gemm)[1])
        if sum(times) + sum(gemm_times) > spec.get("budget_s", 300):
            break
    return {
        "times": times,
        "time_s": statistics.median(times),
        "gemm_time_s": statistics.median(gemm_times),
        "ratio_to_gemm": statistics.median(
            t / g for t, g in zip(times, gemm_times, strict=False)
        ),
        "coverage": _coverage(X, np.asarray(relative.anchors_), seed),
        "peak_extra_mib": max(peaks),
        "peak_reset": _reset_peak(),
    }


def measure(spec):
    """Run the measurement described by ``spec`` (a dict) and return a result dict."""
    kind = spec["kind"]
    result = (_measure_transform if kind == "transform" else _measure_selection)(spec)
    result.update(_blas_info())  # scanning loaded libraries is slow: cached
    return {**spec, **result}


if __name__ == "__main__":
    outcome = measure(json.loads(sys.argv[1]))
    outcome["pid"] = os.getpid()
    print("RESULT " + json.dumps(outcome))
