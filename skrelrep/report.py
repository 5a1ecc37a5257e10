"""Turn experiment results into a report folder: ``report.md``, PNG plots, CSV tables.

Every number in the report is written by the code from the results it is given, next
to the published numbers where the experiment has them. Every file is written
atomically (to a temporary name, then renamed), so that an interrupted run never leaves
a half-written file; a run writes each experiment's files as it finishes and rewrites
``report.md``, marked partial until the last experiment is done.
"""

import datetime
import platform
from pathlib import Path

import numpy as np

from .utils._atomic import atomic_write, atomic_write_text

__all__ = ["markdown_table", "write_markdown", "write_report", "write_result_files"]


def markdown_table(frame, *, float_format="{:.3f}", max_rows=60):
    """A pandas DataFrame as a GitHub-flavoured Markdown table (no extra dependency).

    Parameters
    ----------
    frame : pandas.DataFrame
    float_format : str, default="{:.3f}"
        Format of floating point cells.
    max_rows : int, default=60
        Longer tables are cut, with a note (the full table is in the CSV file).

    Returns
    -------
    table : str

    Examples
    --------
    >>> import pandas as pd
    >>> from skrelrep.report import markdown_table
    >>> print(markdown_table(pd.DataFrame({"space": ["relative"], "score": [0.9312]})))
    | space | score |
    | --- | --- |
    | relative | 0.931 |
    """

    def cell(value):
        if isinstance(value, (float, np.floating)):
            return "" if np.isnan(value) else float_format.format(value)
        return str(value).replace("|", "\\|")

    shown = frame.head(max_rows)
    lines = [
        "| " + " | ".join(str(c) for c in shown.columns) + " |",
        "| " + " | ".join("---" for _ in shown.columns) + " |",
    ]
    lines += [
        "| " + " | ".join(cell(v) for v in row) + " |"
        for row in shown.itertuples(index=False)
    ]
    if len(frame) > max_rows:
        lines.append(f"\n*{len(frame) - max_rows} more rows in the CSV file.*")
    return "\n".join(lines)


def write_result_files(result, out_dir):
    """Write one result's tables as CSV and its figures as PNG files, atomically.

    Each file is written under a temporary name in ``out_dir`` and renamed into place
    (an interrupted write leaves the previous file of that name intact). Figures are
    closed once saved.

    Parameters
    ----------
    result : ExperimentResult
    out_dir : str or path-like
        An existing folder; existing files of the same names are replaced.

    Returns
    -------
    paths : list of pathlib.Path
        The files written, tables first.
    """
    out = Path(out_dir)
    paths = []
    for caption, table in result.tables.items():
        paths.append(
            atomic_write(
                out / f"{result.file_stem(caption)}.csv",
                lambda temporary, table=table: table.to_csv(temporary, index=False),
            )
        )
    for stem, figure in result.figures.items():
        paths.append(
            atomic_write(
                out / f"{stem}.png",
                lambda temporary, figure=figure: figure.savefig(
                    temporary, dpi=110, format="png"
                ),
            )
        )
        _close(figure)
    return paths


def write_markdown(
    results,
    out_dir,
    *,
    title="skrelrep report",
    command=None,
    elapsed=None,
    planned=None,
    stopped=None,
):
    """Write ``report.md`` (atomically) for ``results``, whose files are written.

    A run writes each experiment's files with :func:`write_result_files` as soon as it
    finishes and calls this after each one, so that ``report.md`` always describes what
    exists so far. While ``results`` covers fewer experiments than ``planned``, the
    header says so ("Partial: 2 of 6 experiments") and names the ones not finished.

    Parameters
    ----------
    results : list of ExperimentResult
        The experiments finished so far, in order.
    out_dir : str or path-like
        An existing folder.
    title : str, default="skrelrep report"
    command : str, default=None
        The command line that produced the results, recorded in the header.
    elapsed : float, default=None
        Seconds the run took (so far), recorded in the header.
    planned : list of str, default=None
        Names of all the experiments of the run; ``None`` means ``results`` is all.
    stopped : {"interrupted", "error"}, default=None
        Why a partial run ended; ``None`` while it is still running.

    Returns
    -------
    path : pathlib.Path
        The path of ``report.md``.
    """
    text = "\n".join(
        _markdown(
            results,
            title=title,
            command=command,
            elapsed=elapsed,
            planned=planned,
            stopped=stopped,
        )
    )
    return atomic_write_text(Path(out_dir) / "report.md", text)


def write_report(
    results, out_dir, *, title="skrelrep report", command=None, elapsed=None
):
    """Write ``report.md``, one PNG per figure and one CSV per table into ``out_dir``.

    Every file is written atomically (see :func:`write_result_files`).

    Parameters
    ----------
    results : list of ExperimentResult
    out_dir : str or path-like
        Created if missing; existing files of the same names are replaced.
    title : str, default="skrelrep report"
    command : str, default=None
        The command line that produced the results, recorded in the header.
    elapsed : float, default=None
        Seconds the run took, recorded in the header.

    Returns
    -------
    path : pathlib.Path
        The path of ``report.md``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for result in results:
        write_result_files(result, out)
    return write_markdown(results, out, title=title, command=command, elapsed=elapsed)


_STOPPED = {
    None: "the run is still going",
    "interrupted": "the run was interrupted",
    "error": "the run stopped on an error",
}


def _markdown(results, *, title, command, elapsed, planned, stopped):
    """The lines of ``report.md``."""
    from . import __version__

    lines = [f"# {title}", ""]
    header = [
        f"skrelrep {__version__}",
        f"Python {platform.python_version()} on {platform.machine()}",
        datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
    ]
    if command:
        header.append(f"`{command}`")
    if elapsed is not None:
        header.append(f"{elapsed:.0f} s")
    lines += [" · ".join(header), ""]
    if planned is not None and len(results) < len(planned):
        done = {result.name for result in results}
        missing = ", ".join(name for name in planned if name not in done)
        lines += [
            f"**Partial: {len(results)} of {len(planned)} experiments** "
            f"({_STOPPED[stopped]}; not finished: {missing}).",
            "",
        ]
    skipped = [result.name for result in results if result.skipped is not None]
    if skipped:
        lines += [
            f"**Skipped: {', '.join(skipped)}** (not installed; see below).",
            "",
        ]

    verdicts = [(r, f) for r in results for f in r.findings]
    if verdicts:
        lines += ["## The paper's claims, checked", ""]
        lines += [
            "| experiment | claim | holds | evidence |",
            "| --- | --- | --- | --- |",
        ]
        for result, finding in verdicts:
            mark = "yes" if finding.holds else "**no**"
            lines.append(
                f"| {result.name} | {finding.claim} | {mark} | {finding.evidence} |"
            )
        lines.append("")

    for result in results:
        lines += [f"## {result.title}", ""]
        if result.skipped is not None:
            lines += [f"Skipped: {result.skipped}", ""]
        if result.description.strip():
            lines += [result.description.strip(), ""]
        for caption, table in result.tables.items():
            stem = result.file_stem(caption)
            if caption == "results" and len(result.tables) > 1:
                lines += [f"All measurements: [`{stem}.csv`]({stem}.csv).", ""]
                continue
            lines += [f"**{caption.capitalize()}** ([`{stem}.csv`]({stem}.csv))", ""]
            lines += [markdown_table(table), ""]
        if result.published is not None:
            lines += ["**Published**", "", markdown_table(result.published), ""]
        for stem in result.figures:
            lines += [f"![{stem}]({stem}.png)", ""]
    return lines


def _close(figure):
    import matplotlib.pyplot as plt

    plt.close(figure)
