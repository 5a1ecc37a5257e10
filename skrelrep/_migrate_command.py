"""``skrelrep migrate plan``: bridge or re-embed, decided before paying for either.

The report folder is checked first, then the old index, both anchor files and the
queries are read (as data only, :mod:`skrelrep.utils._files`; the index may be a FAISS
file) and checked against each other, all before any fitting: a problem is one line
on stderr naming the file, exit status 2. A :class:`~skrelrep.retrieval.QueryBridge`
is fitted on nested subsets of the anchors (the forecast against the number of
anchors) and on all of them; the folder gets ``report.md``, ``plan.json`` and the
full bridge as ``bridge.skops`` (load it with
:func:`skrelrep.retrieval.load_bridge`), each written atomically.
"""

import argparse
import datetime
import importlib.util
import json
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from . import __version__
from .utils._atomic import atomic_write, atomic_write_text, check_writable_dir
from .utils._files import DataFileError, read_embeddings
from .utils._progress import progress

__all__ = ["add_migrate_parser", "run_migrate"]

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
# Fewest anchors a bridge is fitted on (its cross-validation holds out a third).
MIN_ANCHORS = 12
DEFAULT_THRESHOLD = 0.9

EPILOG = f"""\
files (row i of ANCHORS_OLD and of ANCHORS_NEW is the same item):
  OLD_INDEX    the old model's index: .npy, .npz[:KEY], .parquet[:COLUMN], .csv
               (as skrelrep compare reads them), or a FAISS index file (.faiss,
               .index) that stores its vectors (flat, HNSW/NSG/IVF over flat
               vectors); a compressed one (PQ, SQ) is refused: save its vectors
  ANCHORS_OLD  the anchors embedded by the old model
  ANCHORS_NEW  the same anchors, in the same order, embedded by the new model
  --queries    unpaired queries embedded by the new model (a query log)

outputs in --out: report.md, plan.json, bridge.skops (skrelrep.retrieval.load_bridge)

exit status:
  {EXIT_OK}    the plan was written
  {EXIT_USAGE}    bad arguments, --out not a writable directory, or an input file
       missing, unreadable, not numeric, with NaN or infinite values, or whose
       rows or widths do not match (one line naming the file; nothing was fitted)
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C); files already written are whole
"""


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1], got {text!r}")
    return value


def add_migrate_parser(subparsers, *, seed):
    """Add the ``migrate`` command (its ``plan`` subcommand) to ``skrelrep``."""
    migrate = subparsers.add_parser(
        "migrate",
        help="plan a switch of embedding model: bridge the old index or re-embed",
    )
    actions = migrate.add_subparsers(dest="action", required=True)
    plan = actions.add_parser(
        "plan",
        help="forecast a bridge's retrieval, recommend bridge or re-embed, save it",
        description="Fit a QueryBridge from the new model's queries to the old "
        "model's index on parallel anchors, forecast the fraction of re-embedding's "
        "Recall@10 it keeps (and how it grows with the anchors), recommend bridging "
        "or re-embedding, and save the bridge.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    plan.add_argument("OLD_INDEX", help="the old model's index")
    plan.add_argument("ANCHORS_OLD", help="the anchors, embedded by the old model")
    plan.add_argument("ANCHORS_NEW", help="the same anchors, by the new model")
    plan.add_argument(
        "--queries", metavar="QUERIES_NEW", help="unpaired new-model queries"
    )
    plan.add_argument(
        "--threshold",
        type=_fraction,
        default=DEFAULT_THRESHOLD,
        help="bridge when the forecast keeps at least this fraction of "
        "re-embedding's Recall@10 (default: %(default)s)",
    )
    plan.add_argument(
        "--curve",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also fit on halves, quarters, ... of the anchors for the forecast's "
        "curve (each is one more fit; default: on)",
    )
    plan.add_argument(
        "--out", default="skrelrep-migrate", help="plan folder (default: %(default)s)"
    )
    plan.add_argument(
        "--seed", type=seed, default=0, help="the bridge's random state (default: 0)"
    )
    plan.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show or hide the progress bar (default: shown on a terminal)",
    )
    return migrate


def run_migrate(parser, args, argv):
    """Run ``skrelrep migrate plan`` with parsed ``args``; returns the exit status."""
    try:
        return _run(parser, args, argv)
    except KeyboardInterrupt:
        print("\ninterrupted: the plan is not complete", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED


def anchor_counts(n_anchors):
    """The nested anchor counts of the curve: halving from all of them, down to
    :data:`MIN_ANCHORS`, smallest first."""
    counts = [n_anchors]
    while counts[-1] // 2 >= MIN_ANCHORS and len(counts) < 5:
        counts.append(counts[-1] // 2)
    return counts[::-1]


def recommend(forecast, threshold):
    """``"bridge"`` when the forecast fraction reaches ``threshold``."""
    return "bridge" if forecast["recall@10"] >= threshold else "re-embed"


def _run(parser, args, argv):
    def fail(message):
        parser.exit(EXIT_USAGE, f"skrelrep migrate plan: error: {message}\n")

    problem = check_writable_dir(args.out)
    if problem is not None:
        fail(f"--out {args.out}: {problem}")
    if importlib.util.find_spec("skops") is None:
        fail("saving the bridge needs skops: pip install 'skrelrep[migrate]'")
    read = {}
    try:
        for role in ("OLD_INDEX", "ANCHORS_OLD", "ANCHORS_NEW", "queries"):
            spec = getattr(args, role)
            if spec is None:
                continue
            read[role] = read_embeddings(spec)
            print(f"{role}: {spec}: {read[role][1]}", flush=True)
    except DataFileError as error:
        fail(str(error))
    index, old, new = (read[r][0] for r in ("OLD_INDEX", "ANCHORS_OLD", "ANCHORS_NEW"))
    queries = read.get("queries", (None, None))[0]
    if old.shape[0] != new.shape[0]:
        fail(
            f"{args.ANCHORS_NEW}: has {new.shape[0]} rows and {args.ANCHORS_OLD} has "
            f"{old.shape[0]}: row i must be the same anchor in both files"
        )
    if old.shape[1] != index.shape[1]:
        fail(
            f"{args.ANCHORS_OLD}: has {old.shape[1]} features and {args.OLD_INDEX} "
            f"{index.shape[1]}: the anchors must be embedded by the index's old model"
        )
    if queries is not None and queries.shape[1] != new.shape[1]:
        fail(
            f"{args.queries}: has {queries.shape[1]} features and {args.ANCHORS_NEW} "
            f"{new.shape[1]}: the queries must be embedded by the new model"
        )
    if old.shape[0] < MIN_ANCHORS:
        fail(
            f"{args.ANCHORS_OLD}: has {old.shape[0]} anchors; a plan needs at least "
            f"{MIN_ANCHORS}"
        )
    command = "skrelrep " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    counts = anchor_counts(old.shape[0]) if args.curve else [old.shape[0]]
    order = np.random.RandomState(args.seed).permutation(old.shape[0])
    curve, bridge = [], None
    started = time.perf_counter()
    print(
        f"Fitting bridges on {', '.join(map(str, counts))} anchors "
        f"({index.shape[0]} index rows, "
        f"{0 if queries is None else queries.shape[0]} unpaired queries) ...",
        flush=True,
    )
    from .retrieval import QueryBridge

    for n in progress(counts, description="anchors", enabled=args.progress):
        rows = np.sort(order[:n])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                bridge = QueryBridge(random_state=args.seed).fit(
                    new[rows], old[rows], index=index, unpaired_queries=queries
                )
        except ValueError as error:  # the bridge's own checks (input spaces)
            fail(str(error).splitlines()[0])
        curve.append((n, bridge.forecast_["recall@10"], *bridge.forecast_["interval"]))
    forecast = bridge.forecast_
    recommendation = recommend(forecast, args.threshold)
    plan = {
        "forecast_recall@10": float(forecast["recall@10"]),
        "interval": [float(v) for v in forecast["interval"]],
        "recommendation": recommendation,
        "threshold": args.threshold,
        "rule": _rule(args.threshold),
        "method": _method(bridge),
        "settings": _settings(bridge),
        "n_anchors": int(old.shape[0]),
        "n_index": int(index.shape[0]),
        "n_unpaired_queries": 0 if queries is None else int(queries.shape[0]),
        "curve": [
            {"n_anchors": n, "forecast_recall@10": f, "interval": [lo, hi]}
            for n, f, lo, hi in curve
        ],
    }
    out = Path(args.out)
    import skops.io

    atomic_write(out / "bridge.skops", lambda path: skops.io.dump(bridge, path))
    figure = _figure(curve, args.threshold, out)
    atomic_write_text(out / "plan.json", json.dumps(plan, indent=2) + "\n")
    about = {role: read[role][1] for role in read}
    atomic_write_text(
        out / "report.md",
        _markdown(plan, args, command, about, figure, time.perf_counter() - started),
    )
    low, high = plan["interval"]
    print(
        f"Forecast: the bridge keeps {plan['forecast_recall@10']:.3f} of re-embedding's "
        f"Recall@10 (interval {low:.3f} to {high:.3f}); recommendation: "
        f"{recommendation}\nReport: {out / 'report.md'}",
        flush=True,
    )
    return EXIT_OK


def _rule(threshold):
    return (
        f"bridge when the forecast keeps at least {threshold:g} of re-embedding's "
        "Recall@10; re-embed otherwise"
    )


def _settings(bridge):
    return {
        "start": bridge.start_,
        "translation": bridge.method_,
        "scaling": bridge.scaling_,
        "self_training_rounds": int(bridge.n_rounds_),
        "contrastive_epochs": int(bridge.n_epochs_),
        "hubness": bridge.hubness_,
        "n_pairs": int(bridge.n_pairs_),
        "cv_score": float(bridge.cv_score_),
    }


def _method(bridge):
    parts = [
        f"QueryBridge: {bridge.method_} translation"
        + (f" ({bridge.scaling_} scaling)" if bridge.scaling_ else ""),
        f"started from {bridge.start_} representations"
        if bridge.start_ == "relative"
        else "started from the translation",
        f"{bridge.n_rounds_} self-training rounds",
        f"{bridge.n_epochs_} contrastive epochs",
        "CSLS hubness correction" if bridge.hubness_ else "plain cosine search",
    ]
    return ", ".join(parts)


def _figure(curve, threshold, out):
    """``forecast.png``, the forecast against the anchors; None without matplotlib."""
    if importlib.util.find_spec("matplotlib") is None:
        (out / "forecast.png").unlink(missing_ok=True)
        return None
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    n, value, low, high = (np.array(column) for column in zip(*curve, strict=True))
    figure, axis = plt.subplots(figsize=(5, 3.2))
    axis.fill_between(n, low, high, alpha=0.25, label="interval")
    axis.plot(n, value, marker="o", label="forecast")
    axis.axhline(threshold, color="grey", linestyle="--", label="threshold")
    axis.set_xscale("log")
    axis.set_xlabel("parallel anchors")
    axis.set_ylabel("fraction of re-embedding's Recall@10")
    axis.legend(loc="lower right")
    figure.tight_layout()
    atomic_write(
        out / "forecast.png",
        lambda path: figure.savefig(path, dpi=110, format="png"),
    )
    plt.close(figure)
    return "forecast.png"


def _markdown(plan, args, command, about, figure, elapsed):
    low, high = plan["interval"]
    lines = [
        "# Migration plan",
        "",
        f"- Command: `{command}`",
        f"- skrelrep {__version__}, "
        f"{datetime.datetime.now().isoformat(timespec='seconds')}, {elapsed:.0f} s",
        *(f"- {role}: `{getattr(args, role)}`, {text}" for role, text in about.items()),
        "",
        "## Forecast",
        "",
        f"With all {plan['n_anchors']} anchors the bridge is forecast to keep "
        f"**{plan['forecast_recall@10']:.3f}** of the Recall@10 that re-embedding the "
        f"{plan['n_index']} documents would give (interval {low:.3f} to {high:.3f}).",
        "",
        "## Recommendation",
        "",
        f"**{plan['recommendation']}**. Rule: {plan['rule']} (`--threshold`).",
    ]
    if low < plan["threshold"] <= high:
        lines += [
            "",
            "The interval straddles the threshold: the forecast alone does not "
            "decide. Label a sample of queries and measure both with "
            "`skrelrep.metrics.migration_scores`, or buy more anchors (below).",
        ]
    lines += [
        "",
        "## The forecast against the number of anchors",
        "",
        "| anchors | forecast | interval |",
        "| ---: | ---: | --- |",
        *(
            f"| {p['n_anchors']} | {p['forecast_recall@10']:.3f} | "
            f"{p['interval'][0]:.3f} to {p['interval'][1]:.3f} |"
            for p in plan["curve"]
        ),
        "",
    ]
    if len(plan["curve"]) > 1:
        last, before = plan["curve"][-1], plan["curve"][-2]
        gain = last["forecast_recall@10"] - before["forecast_recall@10"]
        lines += [
            f"Doubling the anchors from {before['n_anchors']} to {last['n_anchors']} "
            f"changed the forecast by {gain:+.3f}: "
            + (
                "more anchors are likely to pay."
                if gain > 0.02
                else "more anchors are unlikely to pay much."
            ),
            "",
        ]
    if figure:
        lines += [f"![The forecast against the number of anchors]({figure})", ""]
    settings = "\n".join(f"- {k}: {v}" for k, v in plan["settings"].items())
    lines += [
        "## Chosen method",
        "",
        plan["method"] + ".",
        "",
        settings,
        "",
        "The bridge is saved as `bridge.skops`: load it with "
        "`skrelrep.retrieval.load_bridge`, which trusts only skrelrep, scikit-learn, "
        "NumPy and SciPy classes. Serve it from FAISS with "
        "`skrelrep.retrieval.faiss_index` and `search_faiss` (the hubness "
        "correction is one extra coordinate).",
        "",
    ]
    return "\n".join(lines)
