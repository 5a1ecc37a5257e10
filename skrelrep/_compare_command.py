"""``skrelrep compare A B``: two embedding files of the same items, compared.

The report folder is checked first, then both files (and the labels) are read and
checked, all before any computation: a problem with any of them is one line on stderr
naming the file, exit status 2. Files are read as data only (see
:mod:`skrelrep.utils._files`). The folder gets ``report.md``, three PNG figures and
``metrics.json`` (:attr:`SpaceComparison.metrics`, as a flat JSON object), each
written atomically.
"""

import argparse
import datetime
import importlib.util
import json
import math
import shlex
import sys
from pathlib import Path

from . import __version__
from .metrics import compare_spaces
from .utils._atomic import atomic_write, atomic_write_text, check_writable_dir
from .utils._files import DataFileError, read_labels, read_matrix

__all__ = ["add_compare_parser", "run_compare"]

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

EPILOG = f"""\
files (rows are the same items in the same order in A and B; widths may differ):
  .npy      a 2-D numeric array (pickles and object arrays are refused)
  .npz      its only array, or FILE.npz:KEY for one of several
  .parquet  numeric columns, or one column of equal-length numeric lists
  .csv      comma-separated numbers; a first line that is not all numbers, or
            is 0,1,2,... (pandas' names of unnamed columns), is a header
  labels    --labels: a 1-D .npy/.npz array, a one-column .parquet, or a .csv/.txt
            with one label per line and no header

exit status:
  {EXIT_OK}    the report was written
  {EXIT_USAGE}    bad arguments, --out not a writable directory, or an input file
       missing, unreadable, not numeric, with NaN or infinite values, or whose rows
       do not match (one line naming the file; nothing was computed)
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C); files already written are whole
"""

FIGURES = {
    "nulls": ("plot_permutation_nulls", "The measures against their permutation nulls"),
    "neighbours": (
        "plot_neighbour_agreement",
        "Neighbourhood agreement per item",
    ),
    "anchors": (
        "plot_anchor_similarities",
        "The two spaces' similarity structure over the anchors",
    ),
}


def _count(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(
                f"must be an integer of at least {minimum}, got {text!r}"
            )
        return value

    return parse


def add_compare_parser(subparsers, *, seed):
    """Add the ``compare`` command to ``skrelrep``'s subparsers."""
    compare = subparsers.add_parser(
        "compare",
        help="compare two embedding files of the same items (your own embeddings)",
        description="Compare two embedding spaces of the same items: linear and "
        "debiased CKA and mutual k-NN on the spaces as given, the paper's retrieval "
        "measures and cosine agreement on relative codes over parallel anchors, each "
        "with a permutation p-value.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    compare.add_argument("A", help="the first space (.npy, .npz[:KEY], .parquet, .csv)")
    compare.add_argument("B", help="the same items in the second space")
    compare.add_argument(
        "--anchors",
        type=_count(1),
        default=300,
        metavar="N",
        help="parallel anchors, random items (at most half the items; default: "
        "%(default)s)",
    )
    compare.add_argument(
        "--k", type=_count(1), default=10, help="neighbours (default: %(default)s)"
    )
    compare.add_argument("--labels", metavar="FILE", help="one label per item")
    compare.add_argument(
        "--permutations",
        type=_count(0),
        default=99,
        metavar="M",
        help="permutations of the null; 0 for no p-values (default: %(default)s)",
    )
    compare.add_argument(
        "--out", default="skrelrep-compare", help="report folder (default: %(default)s)"
    )
    compare.add_argument(
        "--seed",
        type=seed,
        default=0,
        help="draws anchors and permutations (default: 0)",
    )
    return compare


def run_compare(parser, args, argv):
    """Run ``skrelrep compare`` with parsed ``args``; returns the exit status."""

    def fail(message):
        parser.exit(EXIT_USAGE, f"skrelrep compare: error: {message}\n")

    problem = check_writable_dir(args.out)
    if problem is not None:
        fail(f"--out {args.out}: {problem}")
    if importlib.util.find_spec("matplotlib") is None:
        fail("the report's figures need matplotlib: pip install 'skrelrep[report]'")
    try:
        A, B = read_matrix(args.A), read_matrix(args.B)
        labels = None if args.labels is None else read_labels(args.labels)
    except DataFileError as error:
        fail(str(error))
    if A.shape[0] != B.shape[0]:
        fail(
            f"{args.B}: has {B.shape[0]} rows and {args.A} has {A.shape[0]}: row i "
            "must be the same item in both files"
        )
    n_items = A.shape[0]
    if labels is not None and labels.shape[0] != n_items:
        fail(
            f"{args.labels}: has {labels.shape[0]} labels for {n_items} items (one "
            "label per line, no header)"
        )
    if n_items < 4:
        fail(f"{args.A}: has {n_items} rows; comparing spaces needs at least 4 items")
    n_anchors = min(args.anchors, n_items // 2)
    if n_items - n_anchors <= args.k:
        fail(
            f"--k {args.k}: too large for {n_items} items ({n_anchors} of them "
            "anchors): k must be smaller than the number of other items"
        )

    command = "skrelrep " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    try:
        print(f"Comparing {args.A} {A.shape} and {args.B} {B.shape} ...", flush=True)
        comparison = compare_spaces(
            A,
            B,
            n_anchors=args.anchors,
            k=args.k,
            labels=labels,
            n_permutations=args.permutations,
            random_state=args.seed,
        )
        _write(comparison, args, command)
    except KeyboardInterrupt:
        print("\ninterrupted: the report is not complete", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    print(
        comparison.measures[["measure", "codes", "value", "pvalue"]].to_string(
            index=False, float_format=lambda v: f"{v:.3f}"
        )
    )
    print(f"\nReport: {args.out}/report.md")
    return EXIT_OK


def _write(comparison, args, command):
    """The figures, ``metrics.json`` and ``report.md``, each written atomically."""
    import matplotlib.pyplot as plt

    from . import plotting

    out = Path(args.out)
    shown = []
    for stem, (function, caption) in FIGURES.items():
        if stem == "nulls" and comparison.n_permutations == 0:
            continue
        plot = getattr(plotting, function)
        figure = (
            plot(comparison, names=(args.A, args.B))
            if stem == "anchors"
            else plot(comparison)
        )
        atomic_write(
            out / f"{stem}.png",
            lambda temporary, figure=figure: figure.savefig(
                temporary, dpi=110, format="png"
            ),
        )
        plt.close(figure)
        shown.append((stem, caption))
    metrics = {
        name: (value if math.isfinite(value) else None)
        for name, value in comparison.metrics.items()
    }
    atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    atomic_write_text(out / "report.md", _markdown(comparison, args, command, shown))


_CODES = {
    "raw": "on the embeddings as given (any widths)",
    "relative": "on relative codes over the parallel anchors (the measure compares "
    "coordinates across the spaces, which raw embeddings of two models do not share)",
}


def _markdown(comparison, args, command, shown):
    from .report import markdown_table

    (n_items, width_a), (_, width_b) = comparison.shapes
    k, n_anchors, n_permutations = (
        comparison.k,
        comparison.n_anchors,
        comparison.n_permutations,
    )
    table = comparison.measures.rename(
        columns={"null_mean": "chance (null mean)", "pvalue": "p-value"}
    )
    lines = [
        "# Comparison of two embedding spaces",
        "",
        f"- Command: `{command}`",
        f"- skrelrep {__version__}, "
        f"{datetime.datetime.now().isoformat(timespec='seconds')}",
        f"- A: `{args.A}`, {n_items} items x {width_a} features",
        f"- B: `{args.B}`, {n_items} items x {width_b} features",
        f"- {n_anchors} parallel anchors (random items, seed {args.seed}); the "
        f"relative measures use the other {n_items - n_anchors} items",
        f"- k = {k} neighbours; {n_permutations} permutations",
        "",
        "## Measures",
        "",
        markdown_table(table, max_rows=len(table)),
        "",
        "Row i of A and of B must be the same item. The *raw* measures are computed "
        f"{_CODES['raw']}; the *relative* ones {_CODES['relative']}. Each anchor is "
        "an item whose embeddings in A and B are known to correspond; an item's "
        "relative code is its cosine similarity to every (centred) anchor, so column "
        "j means the same in both spaces.",
        "",
    ]
    if n_permutations:
        lines += [
            "Reading the p-values: each measure was recomputed with the rows of B "
            f"shuffled, {n_permutations} times (the items no longer correspond). "
            "The p-value is the share of shuffles scoring at least the observed "
            "value, counting the observed one, so it is never below "
            f"1/{n_permutations + 1} = {1 / (n_permutations + 1):.3g}. A small "
            "p-value says the agreement is more than chance; it does not say how "
            "large it is: read the value against the chance column.",
            "",
        ]
    if comparison.per_class is not None:
        purity = [
            f"{comparison.metrics[f'label_purity_{side}@{k}']:.3f} in {side.upper()}"
            for side in ("a", "b")
        ]
        lines += [
            "## Labels",
            "",
            f"Labels from `{args.labels}`. Share of an item's {k} nearest "
            f"neighbours with its label (label purity): {', '.join(purity)}. "
            f"Neighbourhood agreement (mutual k-NN) by label:",
            "",
            markdown_table(comparison.per_class),
            "",
        ]
    lines += ["## Figures", ""]
    for stem, caption in shown:
        lines += [f"### {caption}", "", f"![{caption}]({stem}.png)", ""]
    lines += [
        "`metrics.json` holds every number of the table as a flat JSON object.",
        "",
    ]
    return "\n".join(lines)
