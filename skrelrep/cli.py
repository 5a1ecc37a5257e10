"""The ``skrelrep`` command line: ``demo``, ``reproduce``, ``compare`` and ``migrate``.

``skrelrep demo`` is the main job: zero-shot stitching across seeds on scikit-learn's
digits (it needs only the core install and matplotlib), printed and written as a
report. ``skrelrep reproduce NAME`` runs one of the paper's experiments, or all of them.
``skrelrep compare A B`` compares the user's own two embedding files of the same items
(:func:`skrelrep.metrics.compare_spaces`, in :mod:`skrelrep._compare_command`).
``skrelrep migrate plan`` forecasts bridging an old index to a new model
(:mod:`skrelrep._migrate_command`).

The report folder is checked before any work; each experiment's files are written as
soon as it finishes, and ``report.md`` is rewritten after each one, marked partial
until the last is done. Ctrl-C stops the run and leaves that partial report.
"""

import argparse
import shlex
import sys
import time
import warnings

from ._compare_command import add_compare_parser, parse_integer, run_compare
from ._migrate_command import add_migrate_parser, run_migrate
from .experiments import EXPERIMENTS, get_experiment
from .utils._atomic import check_writable_dir

__all__ = ["main"]

#: ``skrelrep reproduce`` runs these (``all``: in this order); ``demo`` has its command.
REPRODUCIBLE = [name for name in EXPERIMENTS if name != "demo"]

# Exit statuses (also in the --help epilog and in main's docstring).
EXIT_OK = 0
EXIT_USAGE = 2  # argparse's own, also for an unusable --out
EXIT_SKIPPED = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a Ctrl-C

EPILOG = f"""\
exit status:
  {EXIT_OK}    every experiment ran (whatever its findings: the report says which of
       the paper's claims our numbers support)
  {EXIT_USAGE}    bad arguments, or --out is not a writable directory (nothing ran)
  {EXIT_SKIPPED}    an experiment was skipped: an optional data set or package is not
       installed (the install command is printed; the others ran and are reported)
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C): the report covers the experiments finished
"""

# Seeds go to NumPy and torch, and experiments add small offsets to them.
MAX_SEED = 2**31 - 1


def _seed(text):
    """``--seed``: an integer from 0 to ``MAX_SEED`` (argparse reports the error)."""
    value = parse_integer(text)  # plain digits only: "5_0" is not 50
    if value is None or not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(
            f"must be an integer from 0 to {MAX_SEED}, got {text!r}"
        )
    return value


def _parser():
    parser = argparse.ArgumentParser(
        prog="skrelrep",
        description="Relative representations: zero-shot stitching experiments and reports.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p, default_out):
        p.add_argument(
            "--out",
            default=default_out,
            help="report folder (created; default: %(default)s)",
        )
        p.add_argument(
            "--seed",
            type=_seed,
            default=0,
            help="random seed, a non-negative integer (default: 0)",
        )
        p.add_argument(
            "--quick",
            action="store_true",
            help="scaled-down run (a smoke test of the full pipeline)",
        )
        p.add_argument(
            "--progress",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="show or hide progress bars (default: shown on a terminal, hidden "
            "when stderr is redirected or CI or TQDM_DISABLE is set)",
        )

    demo = sub.add_parser(
        "demo",
        help="seed stitching on digits: the main job (a few seconds)",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common(demo, "skrelrep-report")
    reproduce = sub.add_parser(
        "reproduce",
        help="run the paper's experiments",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    reproduce.add_argument("experiment", choices=[*REPRODUCIBLE, "all"])
    common(reproduce, "skrelrep-report")
    add_compare_parser(sub, seed=_seed)
    add_migrate_parser(sub, seed=_seed)
    return parser


def _print_summary(result):
    print(f"\n== {result.title} ==")
    if result.skipped is not None:
        print(f"[skipped] {result.skipped}")
    summary = result.tables.get("summary")
    if summary is not None:
        print(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for finding in result.findings:
        print(
            f"[{'ok' if finding.holds else 'NO'}] {finding.claim}: {finding.evidence}"
        )


def _run(name, args):
    """Run experiment ``name`` with the command line's options."""
    spec = get_experiment(name)
    with warnings.catch_warnings():
        # Encoders stopped early by design warn about convergence; the report
        # judges them by their accuracy.
        warnings.filterwarnings("ignore", message=".*converge", category=Warning)
        return spec.run(
            spec.quick if args.quick else spec.full,
            random_state=args.seed,
            show_progress=args.progress,  # None: bars where a person watches
        )


def main(argv=None):
    """Run the command line; returns the exit status.

    Exit statuses:

    - 0: every experiment ran, whatever its findings (the report says which of the
      paper's claims our numbers support);
    - 2: bad arguments, or ``--out`` is not a writable directory; nothing ran (the
      error is printed on stderr, by argparse for arguments); for ``compare`` and
      ``migrate plan``, also
      an input file that is missing, unreadable, not numeric, not finite, or whose
      rows do not match the other's (one line naming the file);
    - 3: an experiment was skipped because an optional data set or package is not
      installed: its install command is printed, the others ran and are reported;
    - 130: interrupted (Ctrl-C); ``report.md`` covers the experiments finished and
      says it is partial.

    ``report.md`` and each experiment's files are written as each experiment finishes
    (atomically: a file is the old one or the new one, never a part).
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "compare":
        return run_compare(parser, args, argv)
    if args.command == "migrate":
        return run_migrate(parser, args, argv)
    names = (
        ["demo"]
        if args.command == "demo"
        else (REPRODUCIBLE if args.experiment == "all" else [args.experiment])
    )
    problem = check_writable_dir(args.out)
    if problem is not None:
        # Before any work; one line in argparse's format, and its exit status.
        parser.exit(
            EXIT_USAGE, f"skrelrep {args.command}: error: --out {args.out}: {problem}\n"
        )
    from .report import write_markdown, write_result_files

    command = "skrelrep " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    started = time.perf_counter()
    results = []

    def report(stopped=None):
        return write_markdown(
            results,
            args.out,
            command=command,
            elapsed=time.perf_counter() - started,
            planned=names,
            stopped=stopped,
        )

    def stop(reason):  # "interrupted" or "error": the partial report, one line
        path = report(reason)
        print(
            f"\n{reason}: {len(results)} of {len(names)} experiments finished; "
            f"partial report at {path}",
            file=sys.stderr,
            flush=True,
        )

    try:
        path = report()  # at once: no report of an earlier run stays in --out
        for name in names:
            assert name in EXPERIMENTS
            print(f"Running {name}{' (quick)' if args.quick else ''} ...", flush=True)
            result = _run(name, args)
            _print_summary(result)
            write_result_files(result, args.out)
            results.append(result)
            path = report()
    except KeyboardInterrupt:
        stop("interrupted")
        return EXIT_INTERRUPTED
    except Exception:
        stop("error")
        raise
    elapsed = time.perf_counter() - started
    print(f"\nReport: {path} ({elapsed:.0f} s)")
    skipped = [result for result in results if result.skipped is not None]
    for result in skipped:
        install = result.install
        print(
            f"skipped: {result.name}"
            + (f" (install with: {install})" if install else ""),
            file=sys.stderr,
        )
    return EXIT_SKIPPED if skipped else EXIT_OK
