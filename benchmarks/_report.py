"""Tables (CSV, markdown) and plots of the benchmark results."""

import csv
import math

__all__ = ["add_ratios", "check_targets", "plot", "write_csv", "write_markdown"]

# The projection's and the selection's targets at the reference shape.
TARGET_SHAPE = (100_000, 768, 1000)
TRANSFORM_RATIO = 1.05
SELECTION_RATIO = 2.0
# Targets on the grid: (method, shape, largest ratio to the GEMM), float32.
GRID_TARGETS = (
    ("skrelrep", (1_000_000, 128, 256), 1.10),
    ("skrelrep", (100_000, 768, 1000), 1.05),
    ("skrelrep_centered", (100_000, 768, 1000), 1.10),
)


def _key(row):
    return (row["n"], row["d"], row["k"], row["dtype"])


def add_ratios(rows):
    """Add ``ratio_to_gemm`` where the measurement did not pair itself with a GEMM."""
    gemm = {
        _key(r): r["time_s"]
        for r in rows
        if r.get("method") == "gemm" and "time_s" in r
    }
    for row in rows:
        reference = gemm.get(_key(row))
        if "time_s" in row and reference and "ratio_to_gemm" not in row:
            row["ratio_to_gemm"] = row["time_s"] / reference
    return rows


def _fmt(value, digits=3):
    if value is None or value == "":
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.{digits}g}"
    return str(value)


def write_csv(rows, path):
    columns = []
    for row in rows:
        # Per-run times (lists) are summarised by the other columns, not tabulated.
        columns += [c for c in row if c not in columns and not c.endswith("times")]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def _table(header, lines):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_fmt(v) for v in line) + " |" for line in lines]
    return "\n".join(out)


def _rows_table(rows, columns):
    """Markdown table of ``rows``; ``columns`` maps a title to a key or a function."""
    lines = []
    for row in rows:
        if "error" in row:
            name = row.get("method") or row.get("strategy")
            shape = [row["n"], row["d"], row["k"], row["dtype"], name]
            lines.append([*shape, "failed: " + row["error"]])
            continue
        lines.append(
            [get(row) if callable(get) else row.get(get) for get in columns.values()]
        )
    return _table(list(columns), lines)


_SHAPE_COLUMNS = {"n": "n", "d": "d", "K": "k", "dtype": "dtype"}
_TRANSFORM_COLUMNS = {
    **_SHAPE_COLUMNS,
    "method": "method",
    "time (s, median)": "time_s",
    "GFLOP/s": "gflops",
    "x GEMM (paired)": "ratio_to_gemm",
    "x GEMM into (paired)": "ratio_to_gemm_into",
    "GEMM in same process (s)": "gemm_time_s",
    "peak extra (MiB)": "peak_extra_mib",
    "output (MiB)": "output_mib",
    "peak - output (MiB)": lambda r: r["peak_extra_mib"] - r["output_mib"],
    "chunk rows": "chunk_rows",
    "out dtype": "out_dtype",
    "max abs err": "max_error",
}
_SELECTION_COLUMNS = {
    **_SHAPE_COLUMNS,
    "strategy": "strategy",
    "fit time (s)": "time_s",
    "one GEMM (s)": "gemm_time_s",
    "x GEMM": "ratio_to_gemm",
    "coverage (mean cos distance to nearest anchor)": "coverage",
    "peak extra (MiB)": "peak_extra_mib",
}
_SCALING_COLUMNS = {
    **_SHAPE_COLUMNS,
    "method": "method",
    "time (s)": "time_s",
    "us per row": lambda r: 1e6 * r["time_s"] / r["n"],
    "x GEMM (paired)": "ratio_to_gemm",
}


def _grid_lines(grid):
    """One line per shape: the kernel's ratios to both GEMMs, plain and centred."""
    by_shape = {}
    for row in grid:
        by_shape.setdefault((row["n"], row["d"], row["k"]), {})[row["method"]] = row
    lines = []
    for (n, d, k), methods in by_shape.items():
        line = [n, d, k]
        for method in ("skrelrep", "skrelrep_centered"):
            row = methods.get(method, {})
            if "error" in row:
                line += ["failed: " + row["error"], "", "", ""]
                continue
            extra = row.get("peak_extra_mib", math.nan) - row.get("output_mib", 0)
            line += [
                row.get("ratio_to_gemm"),
                row.get("best_ratio_to_gemm"),
                row.get("ratio_to_gemm_into"),
                extra,
            ]
        line += [methods.get("skrelrep", {}).get("gemm_time_s")]
        line += [methods.get("skrelrep", {}).get("chunk_rows")]
        lines.append(line)
    return lines


_GRID_HEADER = [
    "n",
    "d",
    "K",
    "x GEMM",
    "best: x GEMM",
    "x GEMM into",
    "peak - output (MiB)",
    "centred: x GEMM",
    "centred: best: x GEMM",
    "centred: x GEMM into",
    "centred: peak - output (MiB)",
    "GEMM (s)",
    "piece rows",
]


def _slope(rows, method):
    """Least-squares exponent b of time ~ n**b."""
    points = [
        (math.log(r["n"]), math.log(r["time_s"]))
        for r in rows
        if r.get("method") == method and "time_s" in r
    ]
    if len(points) < 2:
        return None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    den = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / den if den else None


def _ratio_text(row, to_gemm, to_gemm_into):
    into = row.get(to_gemm_into)
    return f"{row[to_gemm]:.3f}x GEMM" + (
        f", {into:.3f}x GEMM into a preallocated output" if into else ""
    )


def check_targets(transform, selection, scaling, grid=()):
    """The targets as (target, measured, verdict) triples."""
    checks = []
    for method, shape, limit in GRID_TARGETS:
        found = [
            r
            for r in [*grid, *transform]
            if r.get("method") == method
            and (r["n"], r["d"], r["k"]) == shape
            and r["dtype"] == "float32"
            and "ratio_to_gemm" in r
        ]
        name = "centred transform" if method.endswith("centered") else "transform"
        target = f"{name} ≤ {limit:.2f}x GEMM at ({shape[0]},{shape[1]},{shape[2]})"
        if not found:
            checks.append((target, "not measured in this run", None))
            continue
        row = found[0]
        measured = _ratio_text(row, "ratio_to_gemm", "ratio_to_gemm_into")
        # The verdict reads the best runs where measured: on a shared machine noise
        # only adds time, and its slow spells (other jobs; here also fresh memory
        # that the VM host must fault in again) outlast the pairing.
        verdict = row["ratio_to_gemm"]
        if "best_ratio_to_gemm" in row:
            verdict = row["best_ratio_to_gemm"]
            best = _ratio_text(row, "best_ratio_to_gemm", "best_ratio_to_gemm_into")
            measured = f"best runs {best}; paired medians {measured}"
        checks.append((target, measured, verdict <= limit))
    ours = [
        r
        for r in [*transform, *grid]
        if r.get("method", "").startswith("skrelrep") and "time_s" in r
    ]
    target = [
        r
        for r in ours
        if (r["n"], r["d"], r["k"]) == TARGET_SHAPE
        and r["dtype"] == "float32"
        and r["method"] == "skrelrep"
    ]
    if target and target[0].get("ratio_to_gemm"):
        ratio = target[0]["ratio_to_gemm"]
        checks.append(
            (
                "transform ≤ 1.05x GEMM at (100k,768,1000) float32",
                f"{ratio:.3f}x",
                ratio <= TRANSFORM_RATIO,
            )
        )
    else:
        checks.append(
            (
                "transform ≤ 1.05x GEMM at (100k,768,1000) float32",
                "not measured in this run",
                None,
            )
        )
    for r in ours:
        itemsize = 4 if r["dtype"] == "float32" else 8
        chunk_mib = (r.get("chunk_rows") or 0) * (r["d"] + r["k"]) * itemsize / 2**20
        extra = r["peak_extra_mib"] - r["output_mib"]
        checks.append(
            (
                f"peak ≤ input + output + one chunk at ({r['n']},{r['d']},{r['k']}) "
                f"{r['dtype']}, {r['method']}",
                f"peak - output = {extra:.1f} MiB, chunk = {r.get('chunk_rows')} rows = {chunk_mib:.1f} MiB",
                extra <= chunk_mib + 8,  # 8 MiB: allocator and interpreter noise
            )
        )
        checks.append(
            (
                f"dtype preserved at ({r['n']},{r['d']},{r['k']}) {r['dtype']}",
                r.get("out_dtype"),
                r.get("out_dtype") == r["dtype"],
            )
        )
    for strategy in ("fps", "kmeans"):
        found = [
            r
            for r in selection
            if r.get("strategy") == strategy and "ratio_to_gemm" in r
        ]
        for r in found:
            shape = (r["n"], r["d"], r["k"])
            checks.append(
                (
                    f"{strategy} selection ≤ 2x one GEMM at {shape} {r['dtype']}",
                    f"{r['ratio_to_gemm']:.2f}x",
                    r["ratio_to_gemm"] <= SELECTION_RATIO
                    if shape == TARGET_SHAPE
                    else None,
                )
            )
    slope = _slope(scaling, "skrelrep")
    if slope is not None:
        ns = sorted({r["n"] for r in scaling})
        # Over less than two decades fixed costs dominate: the slope is only shown.
        wide = ns[-1] >= 100 * ns[0]
        checks.append(
            (
                f"transform time linear in n ({ns[0]:.0e} -> {ns[-1]:.0e})",
                f"time ~ n^{slope:.2f}",
                (0.9 <= slope <= 1.1) if wide else None,
            )
        )
    return checks


def write_markdown(path, meta, transform, selection, scaling, grid=()):
    verdicts = {True: "met", False: "**not met**", None: "(informative)"}
    parts = [f"# skrelrep benchmark ({meta['preset']})", ""]
    parts += [f"- {key}: {value}" for key, value in meta.items() if key != "preset"]
    parts += ["", "## Targets", ""]
    parts.append(
        _table(
            ["target", "measured", "verdict"],
            [
                [t, m, verdicts[v]]
                for t, m, v in check_targets(transform, selection, scaling, grid)
            ],
        )
    )
    if transform:
        parts += [
            "",
            "## Projection (transform) vs the raw GEMM limit",
            "",
            _rows_table(transform, _TRANSFORM_COLUMNS),
        ]
    if selection:
        parts += [
            "",
            "## Anchor selection (fit) vs one GEMM of the same shape",
            "",
            _rows_table(selection, _SELECTION_COLUMNS),
        ]
    if scaling:
        parts += ["", "## Scaling in n", "", _rows_table(scaling, _SCALING_COLUMNS)]
    if grid:
        parts += [
            "",
            "## Grid of shapes (float32): transform vs the GEMMs, paired",
            "",
            "x GEMM: median of the ratios of runs paired in one process; best: the "
            "fastest run of transform over the fastest GEMM (noise only adds time).",
            "",
            _table(_GRID_HEADER, _grid_lines(grid)),
        ]
    with open(path, "w") as handle:
        handle.write("\n".join(parts) + "\n")


def plot(path, transform, scaling):
    """Ratio to GEMM and extra peak memory per method; time against n."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in transform if "ratio_to_gemm" in r]
    groups = list(dict.fromkeys(_key(r) for r in rows))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
    width = 0.8 / max(1, len(methods))
    for position, method in enumerate(methods):
        by_group = {_key(r): r for r in rows if r["method"] == method}
        xs = [g + position * width for g, key in enumerate(groups) if key in by_group]
        present = [key for key in groups if key in by_group]
        axes[0].bar(
            xs, [by_group[k]["ratio_to_gemm"] for k in present], width, label=method
        )
        axes[1].bar(
            xs,
            [
                by_group[k]["peak_extra_mib"] / max(by_group[k]["output_mib"], 1e-9)
                for k in present
            ],
            width,
            label=method,
        )
    labels = [f"n={n:.0e}\n{d}x{k}\n{dtype}" for n, d, k, dtype in groups]
    for axis, title in zip(
        axes[:2],
        ["time / raw GEMM (lower is better)", "extra peak memory / output size"],
        strict=True,
    ):
        axis.set_xticks(
            [g + 0.4 - width / 2 for g in range(len(groups))], labels, fontsize=8
        )
        axis.axhline(1.0, color="black", linewidth=0.8)
        axis.set_title(title)
    axes[0].legend(fontsize=8)
    for method in ("gemm", "skrelrep"):
        points = sorted(
            (r["n"], r["time_s"])
            for r in scaling
            if r.get("method") == method and "time_s" in r
        )
        if points:
            axes[2].loglog(*zip(*points, strict=True), marker="o", label=method)
    if scaling:
        axes[2].set_xlabel("n (rows)")
        axes[2].set_ylabel("time (s)")
        axes[2].set_title("scaling in n (slope 1 = linear)")
        axes[2].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
