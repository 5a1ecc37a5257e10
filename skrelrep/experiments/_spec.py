"""An experiment as a spec: its settings and the steps that one runner composes.

Every experiment of the reproduction is an :class:`ExperimentSpec`. Its steps are
plain functions, each with one job: ``load`` reads the data sets, ``encode`` trains
or applies the encoders, ``measure`` computes the tidy measurements, ``claims``
checks the paper's claims on them (a pure function, so that a fabricated result can
test it), ``describe`` fills the report's prose from them, and ``tables`` and
``figures`` present them. :meth:`ExperimentSpec.run` is the one runner: it holds the
BLAS at one thread, turns a missing optional data set or package into a skipped
result (or into a note, for a part the experiment can do without), and names the
figure files.
"""

from collections.abc import Callable
from dataclasses import dataclass, is_dataclass
from typing import Any

from ..utils._threads import single_threaded_blas
from ._result import MISSING, ExperimentResult

__all__ = ["ExperimentSpec", "Run"]


class Run:
    """What the steps of one run share: its settings, seed, progress bars and notes.

    Parameters
    ----------
    settings : frozen dataclass
        The experiment's settings (``spec.quick``, ``spec.full`` or a
        :func:`dataclasses.replace` of them).
    random_state : int, default=0
        The run's seed; experiments derive their seeds from it.
    show_progress : bool or None, default=None
        Progress bars: ``None`` shows them where a person is watching (a terminal or
        a notebook, not CI), ``True`` forces them, ``False`` hides them.

    Attributes
    ----------
    notes : list of str
        Parts of the run that were left out, with why; the report lists them after
        the description.
    """

    def __init__(self, settings, *, random_state=0, show_progress=None):
        self.settings = settings
        self.random_state = random_state
        self.show_progress = show_progress
        self.notes = []

    def optional(self, label, function, *args, instead=None, **kwargs):
        """``function(*args, **kwargs)``, or ``None`` with a note when it needs an
        optional data set or package that is not installed.

        Parameters
        ----------
        label : str
            The part of the experiment, as the note names it (``"{label} skipped:
            {reason}"``; the reason names the install command).
        function : callable
        instead : str, default=None
            What the experiment does without it, added to the note.

        Returns
        -------
        value : object or None
        """
        try:
            return function(*args, **kwargs)
        except MISSING as exc:
            note = f"{label} skipped: {exc}"
            self.notes.append(f"{note} ({instead})" if instead else note)
            return None


@dataclass(frozen=True, eq=False)
class ExperimentSpec:
    """One experiment: its name, settings and the steps of a run.

    A run composes the steps in order, each a function of what the previous one
    returned and of the :class:`Run` (settings, seed, progress bars, notes)::

        data = load(run)                  # the data sets
        codes = encode(data, run)         # encoders trained or applied
        measured = measure(codes, run)    # the tidy measurements
        claims(measured)                  # -> list of Finding
        describe(measured, run)           # -> the report's prose (Markdown)
        tables(measured)                  # -> {caption: DataFrame}, "results" first
        figures(measured)                 # -> {caption: Figure}

    A :data:`~skrelrep.experiments._result.MISSING` error (an optional data set or
    package that is not installed) raised by ``load`` or ``encode`` skips the whole
    experiment; a part that the experiment can do without is loaded through
    :meth:`Run.optional`, which leaves a note instead. Without matplotlib, the
    figures are left out with a note.

    Parameters
    ----------
    name : str
        The experiment's name: ``skrelrep reproduce NAME`` and its files' prefix.
    title : str
        The report's section title.
    quick, full : frozen dataclass
        The settings of the scaled-down run (``--quick``) and of the full run, two
        instances of the experiment's settings class.
    load, encode, measure, claims, describe, tables, figures : callable
        The steps, as above.
    published : pandas.DataFrame, default=None
        The published numbers the experiment is compared with.

    Examples
    --------
    >>> from dataclasses import replace
    >>> from skrelrep.experiments import EXPERIMENTS
    >>> spec = EXPERIMENTS["anchors"]
    >>> spec.quick.repeats, spec.full.repeats
    (2, 3)
    >>> replace(spec.quick, repeats=5).images
    1500
    """

    name: str
    title: str
    quick: Any
    full: Any
    load: Callable
    encode: Callable
    measure: Callable
    claims: Callable
    describe: Callable
    tables: Callable
    figures: Callable
    published: Any = None

    def __post_init__(self):
        settings = type(self.full)
        if not (
            is_dataclass(settings)
            and settings.__dataclass_params__.frozen
            and type(self.quick) is settings
        ):
            raise TypeError(
                f"The settings of experiment {self.name!r} must be two instances of "
                f"one frozen dataclass; got {type(self.quick).__name__} and "
                f"{type(self.full).__name__}."
            )

    def run(self, settings, *, random_state=0, show_progress=None):
        """Run the experiment with ``settings``, the BLAS held at one thread.

        The experiments fit thousands of small models (the decoders' inner
        cross-validation above all), whose products gain nothing from BLAS threads
        and lose much to oversubscription on a small machine; the encoders (torch,
        gensim, onnxruntime) keep their own threads. The BLAS limit is restored
        afterwards.

        Parameters
        ----------
        settings : frozen dataclass
            ``self.quick``, ``self.full``, or either with some fields replaced
            (:func:`dataclasses.replace`).
        random_state : int, default=0
            Seeds the splits, anchors and models (experiments add offsets to it).
        show_progress : bool or None, default=None
            Progress bars: ``None`` shows them where a person is watching.

        Returns
        -------
        result : ExperimentResult
            Skipped (``result.skipped`` names the install command) when a data set
            or package the experiment needs is not installed.
        """
        if type(settings) is not type(self.full):
            raise TypeError(
                f"settings must be a {type(self.full).__name__} (spec.quick, "
                "spec.full, or dataclasses.replace of either); got "
                f"{type(settings).__name__}."
            )
        run = Run(settings, random_state=random_state, show_progress=show_progress)
        with single_threaded_blas():
            try:
                data = self.load(run)
                codes = self.encode(data, run)
            except MISSING as exc:
                return ExperimentResult.skip(
                    self.name, self.title, exc, published=self.published
                )
            return self.result(self.measure(codes, run), run)

    def result(self, measured, run):
        """The :class:`ExperimentResult` of measurements: claims, tables, figures,
        and the description followed by the run's notes."""
        findings = list(self.claims(measured))
        tables = self.tables(measured)
        figures = run.optional("Figures", self.figures, measured) or {}
        description = self.describe(measured, run).strip()
        if run.notes:
            description += "\n\n" + "\n".join(f"- {note}" for note in run.notes)
        result = ExperimentResult(
            name=self.name,
            title=self.title,
            description=description,
            tables=tables,
            published=self.published,
            findings=findings,
        )
        result.figures = {
            result.file_stem(caption): figure for caption, figure in figures.items()
        }
        return result
