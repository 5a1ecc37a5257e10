"""The value every experiment returns: tidy tables, figures and checked findings."""

import re
from dataclasses import dataclass, field

import pandas as pd

from ..datasets import DataNotInstalledError

__all__ = ["MISSING", "ExperimentResult", "Finding", "slug"]

# What an optional data set or encoder raises when it is not installed: experiments
# skip that part, with the message (which names the install command) in the report.
MISSING = (ImportError, DataNotInstalledError)

# The install command in a MISSING message: after "Install it with", else a bare one.
_INSTALL = (
    re.compile(r"Install it with:?\s*(\S[^\n]*)"),
    re.compile(r"((?:pip|apt-get) install [^\n]*)"),
)


def slug(text):
    """``text`` as a portable piece of a file name: lower-case ASCII letters and
    digits, every other run of characters one underscore.

    >>> slug("Fashion-MNIST (pretrained) matrix")
    'fashion_mnist_pretrained_matrix'
    """
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


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
        Figures by file stem (see :meth:`file_stem`).
    findings : list of Finding
        The paper's claims checked on these numbers.
    skipped : str or None
        Why the experiment did not run (an optional data set or encoder is not
        installed; the message names the install command), or ``None`` when it ran.
        :meth:`skip` builds such a result.
    """

    name: str
    title: str
    description: str
    tables: dict = field(default_factory=dict)
    published: pd.DataFrame | None = None
    figures: dict = field(default_factory=dict)
    findings: list = field(default_factory=list)
    skipped: str | None = None

    @classmethod
    def skip(cls, name, title, error, *, published=None):
        """The result of an experiment that could not run because of ``error``.

        Parameters
        ----------
        name, title : str
            As for a result that ran.
        error : Exception or str
            One of ``MISSING`` (its message names the install command), or the reason.
        published : pandas.DataFrame, default=None
            The published numbers, still shown in the report.

        Returns
        -------
        result : ExperimentResult
            No description, tables, figures or findings; ``skipped`` holds the
            reason.
        """
        return cls(
            name=name,
            title=title,
            description="",
            published=published,
            skipped=str(error),
        )

    def file_stem(self, caption):
        """The file name, without extension, of this result's table or figure
        ``caption``: ``"{name}_{slug(caption)}"``.

        >>> ExperimentResult("anchors", "Anchors", "").file_stem("stitched accuracy")
        'anchors_stitched_accuracy'
        """
        return f"{self.name}_{slug(caption)}"

    @property
    def install(self):
        """The install command that the skip reason names, or ``None``."""
        if self.skipped is None:
            return None
        for pattern in _INSTALL:
            match = pattern.search(self.skipped)
            if match:
                return match.group(1).strip().rstrip(".")
        return None

    @property
    def results(self):
        """The tidy measurements (``tables["results"]``)."""
        return self.tables["results"]
