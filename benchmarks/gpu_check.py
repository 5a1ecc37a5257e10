"""GPU check: the projection of CUDA tensors is correct, stays on the device, keeps
the documented half-precision accuracy, and how close it runs to ``torch.mm`` on
pre-normalised inputs.

Run through ``bash benchmarks/gpu_check.sh`` on a machine with an NVIDIA GPU and a
CUDA build of torch. Exits non-zero (loudly) without a GPU or when a check fails.
Writes ``gpu_results.md`` and ``gpu_results.json`` to ``$OUT`` (if set) and to
``benchmarks/results/gpu/``.

``--device cpu`` runs the same checks on torch CPU tensors at small shapes, without
timings or result files: the test suite runs it, so the checks themselves are tested
on machines without a GPU.
"""

import argparse
import functools
import json
import os
import pickle
import statistics
import sys
import time
from pathlib import Path

import numpy as np

# SciPy reads this once, at its import (through scikit-learn, in main): without it
# scikit-learn refuses array API dispatch.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

ROOT = Path(__file__).resolve().parent.parent
# |R(half) - R(float32 data before rounding)|: the bounds the docs state and
# tests/test_half_precision.py holds (docs/user_guide/relative.rst, "Half precision").
HALF_BOUNDS = {"float16": 2e-3, "bfloat16": 1.5e-2}
# Half precision is computed in float32: against float64 on the same rounded values
# only float32 rounding remains.
FLOAT32_TOLERANCE = 2e-5
# (n_samples, n_features, n_anchors) of the half-precision checks, and rows of the
# float32/float64 correctness checks, per device.
HALF_SHAPES = {"cuda": (20_000, 768, 1000), "cpu": (2_000, 64, 100)}
CORRECTNESS_ROWS = {"cuda": 20_000, "cpu": 2_000}


class Report:
    """Lines of the report, printed as they come, and the names of failed checks."""

    def __init__(self):
        self.lines = []
        self.failures = []

    def say(self, line=""):
        print(line, flush=True)
        self.lines.append(line)

    def check(self, name, condition, detail=""):
        condition = bool(condition)
        self.say(
            f"[{'PASS' if condition else 'FAIL'}] {name}"
            + (f": {detail}" if detail else "")
        )
        if not condition:
            self.failures.append(name)
        return condition


def _sync_time(function, torch, repeats):
    function()  # warm-up: kernels, cuBLAS handles, allocator
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
        del result
    return statistics.median(times)


def correctness(report, torch, sklearn, RelativeTransformer, device, n_samples):
    """float32 and float64 tensors on ``device`` against NumPy on the CPU."""
    report.say(f"## Correctness ({device} tensors vs NumPy on CPU)")
    rng = np.random.RandomState(0)
    X = (rng.normal(size=(n_samples, 96)) + 0.3).astype(np.float32)
    X[7] = 0.0
    for dtype, tolerance in (("float32", FLOAT32_TOLERANCE), ("float64", 1e-12)):
        X_np = X.astype(dtype)
        X_dev = torch.asarray(X_np, device=device)
        for center in (False, True):
            for strategy in ("random", "fps", "kmeans"):
                params = dict(
                    n_anchors=64,
                    anchor_selection=strategy,
                    center=center,
                    random_state=0,
                )
                cpu = RelativeTransformer(**params).fit(X_np)
                with sklearn.config_context(array_api_dispatch=True):
                    dev = RelativeTransformer(**params, batch_size=3000).fit(X_dev)
                    R_dev = dev.transform(X_dev)
                name = f"{dtype} center={center} {strategy}"
                report.check(
                    f"{name}: output on the device, same dtype",
                    R_dev.device.type == device
                    and str(R_dev.dtype) == f"torch.{dtype}",
                    f"{R_dev.device} {R_dev.dtype}",
                )
                report.check(
                    f"{name}: anchors stay on the device",
                    dev.anchors_.device.type == device,
                )
                same = np.array_equal(
                    dev.anchor_indices_.cpu().numpy(), cpu.anchor_indices_
                )
                report.check(f"{name}: same anchors as on CPU", same)
                if same:
                    error = float(
                        np.max(np.abs(R_dev.cpu().numpy() - cpu.transform(X_np)))
                    )
                    report.check(
                        f"{name}: matches the CPU result",
                        error <= tolerance,
                        f"max abs error {error:.2e} (tolerance {tolerance:.0e})",
                    )
                report.check(
                    f"{name}: zero row gives zeros",
                    center or bool(torch.all(R_dev[7] == 0)),
                )
    with sklearn.config_context(array_api_dispatch=True):
        fitted = RelativeTransformer(n_anchors=32, random_state=0).fit(
            torch.asarray(X, device=device)
        )
    restored = pickle.loads(pickle.dumps(fitted))
    report.check(
        f"a {device}-fitted transformer pickles with NumPy arrays",
        isinstance(restored.anchors_, np.ndarray),
    )


def _unit_rows(M):
    norms = np.linalg.norm(M, axis=1, keepdims=True)
    return M / np.where(norms == 0, 1.0, norms)  # zero rows give zeros, as ours do


def _reference(X, anchor_indices, center):
    """The cosine projection in float64 with NumPy, written out independently."""
    X = np.asarray(X, dtype=np.float64)
    anchors = X[anchor_indices]
    if center:
        mean = anchors.mean(axis=0)
        X, anchors = X - mean, anchors - mean
    return _unit_rows(X) @ _unit_rows(anchors).T


def half_precision(report, torch, sklearn, RelativeTransformer, device, shape):
    """float16 and bfloat16 tensors on ``device`` (and their CPU copies).

    One line per case: where the output lives and its dtype (float32, on the input's
    device with array API dispatch; a NumPy array without it), its error against
    float64 on the same rounded values (float32 rounding only) and against the
    float32 data before rounding (the documented bound).
    """
    n_samples, n_features, n_anchors = shape
    report.say("")
    report.say(
        f"## Half precision: ({n_samples}, {n_features}) onto {n_anchors} anchors"
    )
    rng = np.random.RandomState(0)
    X = (rng.normal(size=(n_samples, n_features)) + 0.3).astype(np.float32)
    devices = [device] if device == "cpu" else [device, "cpu"]
    references = {}  # float64 references, per values, anchor set and centring

    def reference(values, label, indices, center):
        key = (label, indices.tobytes(), center)
        if key not in references:
            references[key] = _reference(values, indices, center)
        return references[key]

    for half in ("float16", "bfloat16"):
        X_half = torch.asarray(X).to(getattr(torch, half))
        X_rounded = X_half.double().numpy()
        for where in devices:
            X_in = X_half.to(where)
            for dispatch in (True, False):
                for center in (True, False):
                    params = dict(n_anchors=n_anchors, center=center, random_state=0)
                    with sklearn.config_context(array_api_dispatch=dispatch):
                        relative = RelativeTransformer(**params).fit(X_in)
                        R = relative.transform(X_in)
                    name = (
                        f"{half} on {where}, dispatch {'on' if dispatch else 'off'}, "
                        f"center={center}"
                    )
                    if dispatch:  # computed by torch where the input is
                        placed = (
                            isinstance(R, torch.Tensor)
                            and R.dtype == torch.float32
                            and R.device.type == where
                            and relative.anchors_.dtype == torch.float32
                            and relative.anchors_.device.type == where
                        )
                        found = f"{R.dtype} on {R.device}"
                        indices = relative.anchor_indices_.cpu().numpy()
                        R = R.cpu().numpy()
                    else:  # converted to NumPy first, as scikit-learn does
                        placed = isinstance(R, np.ndarray) and R.dtype == np.float32
                        found = f"{type(R).__module__}.{type(R).__name__} {R.dtype}"
                        indices = relative.anchor_indices_
                    same = float(
                        np.max(np.abs(R - reference(X_rounded, half, indices, center)))
                    )
                    before = float(
                        np.max(np.abs(R - reference(X, None, indices, center)))
                    )
                    bound = HALF_BOUNDS[half]
                    report.check(
                        name,
                        placed and same <= FLOAT32_TOLERANCE and before <= bound,
                        f"{found}; max abs error {same:.1e} vs float64 on the same "
                        f"{half} values (tolerance {FLOAT32_TOLERANCE:.1e}), "
                        f"{before:.1e} vs the float32 data before rounding "
                        f"(bound {bound:.1e})",
                    )


def timings(report, torch, sklearn, RelativeTransformer, shapes, repeats):
    report.say("")
    report.say("## Timings: transform vs torch.mm on pre-normalised inputs (float32)")
    report.say("")
    report.say(
        "| n | d | K | torch.mm (s) | ours (s) | x torch.mm | GPU peak - output (MiB) "
        "| chunk rows |"
    )
    report.say("|---|---|---|---|---|---|---|---|")
    from skrelrep.similarity._cosine import projection_chunk_rows

    rows = []
    for n, d, k in shapes:
        row = _time_shape(torch, sklearn, RelativeTransformer, n, d, k, repeats)
        row["chunk_rows"] = projection_chunk_rows(n, d, k, 4)
        rows.append(row)
        report.say(
            f"| {n} | {d} | {k} | {row['torch_mm_s']:.4f} | {row['ours_s']:.4f} "
            f"| {row['ratio']:.2f} | {row['peak_minus_output_mib']:.1f} "
            f"| {row['chunk_rows']} |"
        )
        torch.cuda.empty_cache()
    return rows


def _time_shape(torch, sklearn, RelativeTransformer, n, d, k, repeats):
    generator = torch.Generator(device="cuda").manual_seed(0)
    X = torch.randn(n, d, device="cuda", generator=generator) + 0.3
    anchors = X[torch.randperm(n, device="cuda", generator=generator)[:k]]
    X_unit = torch.nn.functional.normalize(X, dim=1)
    A_unit_t = torch.nn.functional.normalize(anchors, dim=1).T.contiguous()
    limit = _sync_time(functools.partial(torch.mm, X_unit, A_unit_t), torch, repeats)
    del X_unit  # not part of our working set
    with sklearn.config_context(array_api_dispatch=True):
        relative = RelativeTransformer(n_anchors=None).fit(anchors)
        ours = _sync_time(functools.partial(relative.transform, X), torch, repeats)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        out = relative.transform(X)
        torch.cuda.synchronize()
        extra = (torch.cuda.max_memory_allocated() - before) / 2**20
    output = out.numel() * out.element_size() / 2**20
    return dict(
        n=n,
        d=d,
        k=k,
        torch_mm_s=limit,
        ours_s=ours,
        ratio=ours / limit,
        peak_minus_output_mib=extra - output,
    )


def main(argv=None):
    """Run the checks; return the report (exits non-zero when a check fails)."""
    parser = argparse.ArgumentParser(prog="benchmarks.gpu_check")
    parser.add_argument(
        "--quick", action="store_true", help="time without the (1M,128,256) shape"
    )
    parser.add_argument(
        "--device",
        choices=["cuda", "cpu"],
        default="cuda",
        help="cpu: the same checks on torch CPU tensors, small, without timings",
    )
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        sys.exit("gpu_check: torch is not installed: no GPU check possible.")
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit(
            "gpu_check: no CUDA device (torch.cuda.is_available() is False, torch "
            f"{torch.__version__}): this check needs an NVIDIA GPU "
            "(--device cpu runs the checks on the CPU)."
        )
    import sklearn

    from skrelrep import RelativeTransformer

    report = Report()
    report.say("# skrelrep GPU check")
    report.say("")
    if args.device == "cuda":
        report.say(f"- device: {torch.cuda.get_device_name(0)}")
    else:
        report.say("- device: CPU (torch CPU tensors stand in for CUDA ones)")
    report.say(
        f"- torch {torch.__version__} (CUDA {torch.version.cuda}), scikit-learn "
        f"{sklearn.__version__}, numpy {np.__version__}"
    )
    # TF32 matmuls would fail the float32 tolerances: say whether they are on.
    report.say(
        f"- float32 matmul precision: {torch.get_float32_matmul_precision()} "
        f"(TF32 in cuBLAS: {torch.backends.cuda.matmul.allow_tf32})"
    )
    report.say("")
    started = time.perf_counter()
    common = (report, torch, sklearn, RelativeTransformer, args.device)
    correctness(*common, CORRECTNESS_ROWS[args.device])
    half_precision(*common, HALF_SHAPES[args.device])
    rows = []
    if args.device == "cuda":
        shapes = [(10_000, 512, 300), (100_000, 768, 1000)]
        if not args.quick:
            shapes.append((1_000_000, 128, 256))
        rows = timings(report, torch, sklearn, RelativeTransformer, shapes, repeats=10)
    report.say("")
    report.say(
        f"checks failed: {len(report.failures)} "
        f"({time.perf_counter() - started:.1f} s after imports)"
    )
    # A CPU run writes nothing: it must not overwrite the figures of a GPU run.
    targets = [os.environ.get("OUT"), ROOT / "benchmarks/results/gpu"]
    for target in filter(None, targets if args.device == "cuda" else []):
        target = Path(target)
        target.mkdir(parents=True, exist_ok=True)
        (target / "gpu_results.md").write_text("\n".join(report.lines) + "\n")
        (target / "gpu_results.json").write_text(
            json.dumps({"failures": report.failures, "timings": rows}, indent=2)
        )
    if report.failures:
        sys.exit(
            f"gpu_check: {len(report.failures)} check(s) failed: {report.failures}"
        )
    return report


if __name__ == "__main__":
    main()
