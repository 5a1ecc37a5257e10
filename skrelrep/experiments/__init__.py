"""Reproductions of the paper's experiments.

Each experiment is an :class:`ExperimentSpec` in :data:`EXPERIMENTS`: its settings
(``spec.quick``, a scaled-down run for tests and smoke checks, and ``spec.full``)
and the steps of a run (load → encode → measure → claims → describe).
``spec.run(settings, random_state=..., show_progress=...)`` returns an
:class:`ExperimentResult`: tidy tables, figures, and the paper's claims checked on the
numbers. Experiments use only skrelrep's public API, as a user would. Optional data
sets and encoders are imported when a run needs them; one that is not installed skips
the experiment (``result.skipped`` names the install command, and ``skrelrep`` then
exits with status 3), or leaves out the part that needs it, with a note.

Examples
--------
>>> from dataclasses import replace
>>> from skrelrep.experiments import EXPERIMENTS
>>> spec = EXPERIMENTS["demo"]
>>> spec.quick
DemoSettings(seeds=(0, 1, 2), n_anchors=100)
>>> settings = replace(spec.quick, seeds=(0, 1), n_anchors=50)
>>> result = spec.run(settings, random_state=0, show_progress=False)
>>> list(result.tables), len(result.findings), result.skipped
(['results', 'summary'], 4, None)
"""

from . import (
    anchors,
    crosslingual,
    latent,
    migration,
    reconstruction,
    text,
    training,
    vision,
    words,
)
from ._result import ExperimentResult, Finding
from ._spec import ExperimentSpec

__all__ = [
    "EXPERIMENTS",
    "ExperimentResult",
    "ExperimentSpec",
    "Finding",
    "get_experiment",
]

#: The experiments by name, in the order ``skrelrep reproduce all`` runs them;
#: ``"demo"`` is ``skrelrep demo``.
EXPERIMENTS = {
    spec.name: spec
    for spec in (
        words.SPEC,
        vision.SPEC,
        text.SPEC,
        crosslingual.SPEC,
        anchors.SPEC,
        latent.SPEC,
        reconstruction.SPEC,
        training.SPEC,
        migration.SPEC,
        vision.DEMO,
    )
}


def get_experiment(name):
    """The :class:`ExperimentSpec` of experiment ``name`` (a key of ``EXPERIMENTS``).

    Raises
    ------
    ValueError
        For a name that is not a key of ``EXPERIMENTS``; the message lists them.
    """
    if name not in EXPERIMENTS:
        raise ValueError(
            f"Unknown experiment {name!r}; choose from {sorted(EXPERIMENTS)}."
        )
    return EXPERIMENTS[name]
