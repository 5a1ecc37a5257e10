"""GPU check: the projection of CUDA tensors is correct, stays on the device, and how
close it runs to ``torch.mm`` on pre-normalised inputs.

Run through ``bash benchmarks/gpu_check.sh`` on a machine with an NVIDIA GPU and a
CUDA build of torch. Exits non-zero (loudly) without a GPU or when a check fails.
Writes ``gpu_results.md`` and ``gpu_results.json`` to ``$OUT`` (if set) and to
``benchmarks/results/gpu/``.
"""

import functools
import json
import os
import pickle
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FAILURES = []
LINES = []


def say(line=""):
    print(line, flush=True)
    LINES.append(line)


def check(name, condition, detail=""):
    say(f"[{'ok' if condition else 'FAIL'}] {name}{': ' + detail if detail else ''}")
    if not condition:
        FAILURES.append(name)


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


def correctness(torch, sklearn, RelativeTransformer):
    say("## Correctness (CUDA vs NumPy on CPU)")
    rng = np.random.RandomState(0)
    device = torch.device("cuda")
    X = (rng.normal(size=(20_000, 96)) + 0.3).astype(np.float32)
    X[7] = 0.0
    for dtype, tolerance in (("float32", 2e-5), ("float64", 1e-12)):
        X_np = X.astype(dtype)
        X_gpu = torch.asarray(X_np, device=device)
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
                    gpu = RelativeTransformer(**params, batch_size=3000).fit(X_gpu)
                    R_gpu = gpu.transform(X_gpu)
                name = f"{dtype} center={center} {strategy}"
                check(
                    f"{name}: output on the GPU, same dtype",
                    R_gpu.device.type == "cuda"
                    and str(R_gpu.dtype) == f"torch.{dtype}",
                    f"{R_gpu.device} {R_gpu.dtype}",
                )
                check(
                    f"{name}: anchors stay on the GPU",
                    gpu.anchors_.device.type == "cuda",
                )
                same = np.array_equal(gpu.anchor_indices_, cpu.anchor_indices_)
                check(f"{name}: same anchors as on CPU", same)
                if same:
                    error = float(
                        np.max(np.abs(R_gpu.cpu().numpy() - cpu.transform(X_np)))
                    )
                    check(
                        f"{name}: matches the CPU result",
                        error <= tolerance,
                        f"max abs error {error:.2e} (tolerance {tolerance:.0e})",
                    )
                check(
                    f"{name}: zero row gives zeros",
                    center or bool(torch.all(R_gpu[7] == 0)),
                )
    with sklearn.config_context(array_api_dispatch=True):
        fitted = RelativeTransformer(n_anchors=32, random_state=0).fit(
            torch.asarray(X, device=device)
        )
    restored = pickle.loads(pickle.dumps(fitted))
    check(
        "a GPU-fitted transformer pickles with NumPy arrays",
        isinstance(restored.anchors_, np.ndarray),
    )
    for half in ("float16", "bfloat16"):
        X_half = torch.asarray(X[:100], device=device).to(getattr(torch, half))
        with sklearn.config_context(array_api_dispatch=True):
            try:
                out = RelativeTransformer(n_anchors=8, random_state=0).fit_transform(
                    X_half
                )
                say(f"[info] {half} input gives {out.dtype} output on {out.device}")
            except (TypeError, ValueError) as error:
                say(f"[info] {half} input is not supported: {error}")


def timings(torch, sklearn, RelativeTransformer, shapes, repeats):
    say("")
    say("## Timings: transform vs torch.mm on pre-normalised inputs (float32)")
    say("")
    say(
        "| n | d | K | torch.mm (s) | ours (s) | x torch.mm | GPU peak - output (MiB) "
        "| chunk rows |"
    )
    say("|---|---|---|---|---|---|---|---|")
    from skrelrep.similarity._cosine import projection_chunk_rows

    rows = []
    for n, d, k in shapes:
        row = _time_shape(torch, sklearn, RelativeTransformer, n, d, k, repeats)
        row["chunk_rows"] = projection_chunk_rows(n, d, k, 4)
        rows.append(row)
        say(
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


def main():
    try:
        import torch
    except ImportError:
        sys.exit("gpu_check: torch is not installed: no GPU check possible.")
    if not torch.cuda.is_available():
        sys.exit(
            "gpu_check: no CUDA device (torch.cuda.is_available() is False, torch "
            f"{torch.__version__}): this check needs an NVIDIA GPU."
        )
    import sklearn

    from skrelrep import RelativeTransformer

    quick = "--quick" in sys.argv
    say("# skrelrep GPU check")
    say("")
    say(f"- device: {torch.cuda.get_device_name(0)}")
    say(
        f"- torch {torch.__version__} (CUDA {torch.version.cuda}), scikit-learn "
        f"{sklearn.__version__}, numpy {np.__version__}"
    )
    say("")
    correctness(torch, sklearn, RelativeTransformer)
    shapes = [(10_000, 512, 300), (100_000, 768, 1000)]
    if not quick:
        shapes.append((1_000_000, 128, 256))
    rows = timings(torch, sklearn, RelativeTransformer, shapes, repeats=10)
    say("")
    say(f"checks failed: {len(FAILURES)}")
    for target in filter(
        None, [os.environ.get("OUT"), ROOT / "benchmarks/results/gpu"]
    ):
        target = Path(target)
        target.mkdir(parents=True, exist_ok=True)
        (target / "gpu_results.md").write_text("\n".join(LINES) + "\n")
        (target / "gpu_results.json").write_text(
            json.dumps({"failures": FAILURES, "timings": rows}, indent=2)
        )
    if FAILURES:
        sys.exit(f"gpu_check: {len(FAILURES)} check(s) failed: {FAILURES}")


if __name__ == "__main__":
    main()
