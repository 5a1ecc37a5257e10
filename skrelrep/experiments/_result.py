"""The value every experiment returns: tidy tables, figures and checked findings."""

from dataclasses import dataclass, field

import pandas as pd

from ..datasets import DataNotInstalledError

__all__ = ["MISSING", "ExperimentResult", "Finding"]

# What an optional data set or encoder raises when it is not installed: experiments
# skip that part, with the message (which names the install command) in the report.
MISSING = (ImportError, DataNotInstalledError)


@dataclass
class Finding:
    """A claim of the paper, checked on our numbers.

    Attributes
    ----------
    claim : str
        What the paper says, in one sentence.
    holds : bool
        Whether our measurement agrees.
    evidence : str
        The numbers behind the verdict.
    """

    claim: str
    holds: bool
    evidence: str


@dataclass
class ExperimentResult:
    """Outcome of one experiment.

    Attributes
    ----------
    name : str
        Short identifier (``"vision"``, ``"words"``, ...), used for file names.
    title : str
        Section title in the report.
    description : str
        What was run: data, encoders, anchors, seeds (Markdown).
    tables : dict of str to pandas.DataFrame
        Result tables by caption. ``tables["results"]`` holds the tidy, long-format
        measurements; other entries are summaries derived from it.
    published : pandas.DataFrame or None
        The published numbers this experiment is compared with, if any.
    figures : dict of str to matplotlib.figure.Figure
        Figures by file stem.
    findings : list of Finding
        The paper's claims checked on these numbers.
    """

    name: str
    title: str
    description: str
    tables: dict = field(default_factory=dict)
    published: pd.DataFrame | None = None
    figures: dict = field(default_factory=dict)
    findings: list = field(default_factory=list)

    @property
    def results(self):
        """The tidy measurements (``tables["results"]``)."""
        return self.tables["results"]
