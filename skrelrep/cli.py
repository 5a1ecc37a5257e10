"""The ``skrelrep`` command line: ``skrelrep demo`` and ``skrelrep reproduce``.

``skrelrep demo`` is the main job: zero-shot stitching across seeds on scikit-learn's
digits (it needs only the core install and matplotlib), printed and written as a
report. ``skrelrep reproduce NAME`` runs one of the paper's experiments, or all of them.
"""

import argparse
import shlex
import sys
import time
import warnings

from .experiments import EXPERIMENTS, get_experiment

__all__ = ["main"]

REPRODUCIBLE = ["words", "vision", "text", "crosslingual", "anchors", "latent"]


def _parser():
    parser = argparse.ArgumentParser(
        prog="skrelrep",
        description="Relative representations: zero-shot stitching experiments and reports.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p, default_out):
        p.add_argument(
            "--out",
            default=default_out,
            help="report folder (created; default: %(default)s)",
        )
        p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
        p.add_argument(
            "--quick",
            action="store_true",
            help="scaled-down run (a smoke test of the full pipeline)",
        )
        p.add_argument("--no-progress", action="store_true", help="hide progress bars")

    demo = sub.add_parser(
        "demo", help="seed stitching on digits: the main job (~1 min)"
    )
    common(demo, "skrelrep-report")
    reproduce = sub.add_parser("reproduce", help="run the paper's experiments")
    reproduce.add_argument("experiment", choices=[*REPRODUCIBLE, "all"])
    common(reproduce, "skrelrep-report")
    return parser


def _print_summary(result):
    print(f"\n== {result.title} ==")
    summary = result.tables.get("summary")
    if summary is not None:
        print(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for finding in result.findings:
        print(
            f"[{'ok' if finding.holds else 'NO'}] {finding.claim}: {finding.evidence}"
        )


def main(argv=None):
    """Run the command line; returns the exit status.

    The exit status is 0 when every experiment ran, whatever its findings: the report
    says which of the paper's claims our numbers support.
    """
    args = _parser().parse_args(argv)
    names = (
        ["demo"]
        if args.command == "demo"
        else (REPRODUCIBLE if args.experiment == "all" else [args.experiment])
    )
    from .report import write_report

    started = time.perf_counter()
    results = []
    for name in names:
        assert name in EXPERIMENTS
        print(f"Running {name}{' (quick)' if args.quick else ''} ...", flush=True)
        with warnings.catch_warnings():
            # Encoders stopped early by design warn about convergence; the report
            # judges them by their accuracy.
            warnings.filterwarnings("ignore", message=".*converge", category=Warning)
            result = get_experiment(name)(
                quick=args.quick,
                random_state=args.seed,
                show_progress=not args.no_progress,
            )
        _print_summary(result)
        results.append(result)
    elapsed = time.perf_counter() - started
    command = "skrelrep " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    path = write_report(results, args.out, command=command, elapsed=elapsed)
    print(f"\nReport: {path} ({elapsed:.0f} s)")
    return 0
