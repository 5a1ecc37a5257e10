"""Turn experiment results into a report folder: ``report.md``, PNG plots, CSV tables.

Every number in the report is written by the code from the results it is given, next
to the published numbers where the experiment has them.
"""

import datetime
import platform
from pathlib import Path

import numpy as np

__all__ = ["markdown_table", "write_report"]


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


def write_report(
    results, out_dir, *, title="skrelrep report", command=None, elapsed=None
):
    """Write ``report.md``, one PNG per figure and one CSV per table into ``out_dir``.

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
    from . import __version__

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
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
        lines += [f"## {result.title}", "", result.description.strip(), ""]
        for caption, table in result.tables.items():
            stem = f"{result.name}_{caption}".replace(" ", "_")
            table.to_csv(out / f"{stem}.csv", index=False)
            if caption == "results" and len(result.tables) > 1:
                lines += [f"All measurements: [`{stem}.csv`]({stem}.csv).", ""]
                continue
            lines += [f"**{caption.capitalize()}** ([`{stem}.csv`]({stem}.csv))", ""]
            lines += [markdown_table(table), ""]
        if result.published is not None:
            lines += ["**Published**", "", markdown_table(result.published), ""]
        for stem, figure in result.figures.items():
            figure.savefig(out / f"{stem}.png", dpi=110)
            lines += [f"![{stem}]({stem}.png)", ""]
            _close(figure)
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _close(figure):
    import matplotlib.pyplot as plt

    plt.close(figure)
