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
import warnings
from pathlib import Path

from . import __version__
from .metrics import compare_spaces
from .utils._atomic import atomic_write, atomic_write_text, check_writable_dir
from .utils._files import DataFileError, read_embeddings, read_labels

__all__ = ["add_compare_parser", "parse_integer", "run_compare"]

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

EPILOG = f"""\
files (rows are the same items in the same order in A and B; widths may differ):
  .npy      a 2-D numeric array (pickles and object arrays are refused)
  .npz      its only array, or FILE.npz:KEY for one of several
  .parquet  numeric columns, or one column of equal-length numeric lists (found
            when it is the only one, or FILE.parquet:COLUMN); a pandas index in
            the file is never read as data
  .csv      comma-separated numbers; the first line is a header only when all its
            cells are names, or it is 0,1,2,... (pandas' names of unnamed columns)
  labels    --labels: a 1-D .npy/.npz array, a one-column .parquet or
            FILE.parquet:COLUMN, or a .csv/.txt with one label per line and no
            header; a missing label (NaN, null, empty line, NA) is refused

exit status:
  {EXIT_OK}    the report was written
  {EXIT_USAGE}    bad arguments, --out not a writable directory, or an input file
       missing, unreadable, not numeric, with NaN or infinite values or missing
       labels, or whose rows do not match (one line naming the file and the line
       or row; nothing was computed)
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


# A bound on --permutations that no run needs: p-values down to 1e-5, and a null of a
# few megabytes. Absurd values are refused before any work.
MAX_PERMUTATIONS = 100_000


def parse_integer(text):
    """The integer written in ``text`` as plain decimal digits; None otherwise.

    Stricter than :class:`int`, which also reads ``"5_0"`` as 50, and spaces, signs
    and other scripts' digits: an option's value is taken only as written.
    """
    if not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def _count(minimum, maximum=None):
    """An argparse type: an integer from ``minimum`` (to ``maximum``)."""
    bounds = (
        f"of at least {minimum}" if maximum is None else f"from {minimum} to {maximum}"
    )

    def parse(text):
        value = parse_integer(text)
        if (
            value is None
            or value < minimum
            or (maximum is not None and value > maximum)
        ):
            raise argparse.ArgumentTypeError(
                f"must be an integer {bounds}, got {text!r}"
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
        type=_count(2),
        default=300,
        metavar="N",
        help="parallel anchors, random items: at least 2 (centred cosines need two), "
        "at most half the items (default: %(default)s)",
    )
    compare.add_argument(
        "--k", type=_count(1), default=10, help="neighbours (default: %(default)s)"
    )
    compare.add_argument("--labels", metavar="FILE", help="one label per item")
    compare.add_argument(
        "--permutations",
        type=_count(0, MAX_PERMUTATIONS),
        default=99,
        metavar="M",
        help=f"permutations of the null, at most {MAX_PERMUTATIONS}; 0 for no "
        "p-values (default: %(default)s)",
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
    try:
        return _run(parser, args, argv)
    except KeyboardInterrupt:
        print("\ninterrupted: the report is not complete", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED


def _run(parser, args, argv):
    def fail(message):
        parser.exit(EXIT_USAGE, f"skrelrep compare: error: {message}\n")

    problem = check_writable_dir(args.out)
    if problem is not None:
        fail(f"--out {args.out}: {problem}")
    if importlib.util.find_spec("matplotlib") is None:
        fail("the report's figures need matplotlib: pip install 'skrelrep[report]'")
    read = {}
    try:
        for role, spec in [("A", args.A), ("B", args.B)]:
            read[role] = read_embeddings(spec)
            print(f"{role}: {spec}: {read[role][1]}", flush=True)
        if args.labels is not None:
            read["labels"] = read_labels(args.labels)
            print(f"labels: {args.labels}: {read['labels'][1]}", flush=True)
    except DataFileError as error:
        fail(str(error))
    (A, about_a), (B, about_b) = read["A"], read["B"]
    labels = read.get("labels", (None, None))[0]
    if A.shape[0] != B.shape[0]:
        fail(
            f"{args.B}: has {B.shape[0]} rows and {args.A} has {A.shape[0]}: row i "
            "must be the same item in both files (how each was read is above)"
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
    if n_anchors < args.anchors:
        print(
            f"--anchors {args.anchors}: capped at {n_anchors}, half of the {n_items} "
            "items (the relative measures are computed on the other half)",
            flush=True,
        )

    command = "skrelrep " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    print(
        f"Comparing ({n_anchors} anchors, k={args.k}, {args.permutations} "
        "permutations) ...",
        flush=True,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        comparison = compare_spaces(
            A,
            B,
            n_anchors=args.anchors,
            k=args.k,
            labels=labels,
            n_permutations=args.permutations,
            random_state=args.seed,
        )
    notes = list(dict.fromkeys(str(warning.message) for warning in caught))
    for note in notes:
        print(f"skrelrep compare: warning: {note}", file=sys.stderr, flush=True)
    _write(comparison, args, command, {"A": about_a, "B": about_b}, notes)
    print(
        comparison.measures[["measure", "codes", "value", "pvalue"]].to_string(
            index=False, float_format=lambda v: f"{v:.3f}"
        )
    )
    print(f"\nReport: {args.out}/report.md")
    return EXIT_OK


def _write(comparison, args, command, about, notes):
    """The figures, ``metrics.json`` and ``report.md``, each written atomically.

    A figure of the report's set that this comparison does not draw (the nulls,
    without permutations) is removed, so no figure of an earlier run is left beside
    the report.
    """
    import matplotlib.pyplot as plt

    from . import plotting

    out = Path(args.out)
    drawn = [
        stem
        for stem in FIGURES
        if not (stem == "nulls" and comparison.n_permutations == 0)
    ]
    for stem in FIGURES:
        if stem not in drawn:
            (out / f"{stem}.png").unlink(missing_ok=True)
    shown = []
    for stem in drawn:
        function, caption = FIGURES[stem]
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
    atomic_write_text(
        out / "report.md", _markdown(comparison, args, command, shown, about, notes)
    )


_CODES = {
    "raw": "on the embeddings as given (any widths)",
    "relative": "on relative codes over the parallel anchors (the measure compares "
    "coordinates across the spaces, which raw embeddings of two models do not share)",
}


def _markdown(comparison, args, command, shown, about, notes):
    from .report import markdown_table

    n_items = comparison.shapes[0][0]
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
        f"- A: `{args.A}`, {about['A']}",
        f"- B: `{args.B}`, {about['B']}",
        f"- {n_anchors} parallel anchors (random items, seed {args.seed}"
        + (
            f"; --anchors {args.anchors} capped at half the items"
            if n_anchors < args.anchors
            else ""
        )
        + f"); the relative measures use the other {n_items - n_anchors} items",
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
    if notes:
        lines += ["## Warnings", "", *(f"- {note}" for note in notes), ""]
    lines += ["## Figures", ""]
    for stem, caption in shown:
        lines += [f"### {caption}", "", f"![{caption}]({stem}.png)", ""]
    lines += [
        "`metrics.json` holds every number of the table as a flat JSON object.",
        "",
    ]
    return "\n".join(lines)
