"""Reproductions of the paper's experiments.

Each ``run_*`` function takes ``quick`` (a scaled-down run for tests and smoke checks),
``random_state`` and ``show_progress`` (``None``: bars only where a person is
watching; see the encoders' ``verbose``), and returns an :class:`ExperimentResult`:
tidy tables, figures, and the paper's claims checked on the numbers. Experiments use
only skrelrep's public API, as a user would. Optional data sets and encoders that are
not installed are skipped with a note naming the install command: an experiment that
cannot run at all returns a result whose ``skipped`` holds that note (see
:meth:`ExperimentResult.skip`), and ``skrelrep`` then exits with status 3.
"""

import functools
import importlib

from ..utils._threads import single_threaded_blas
from ._result import ExperimentResult, Finding

__all__ = ["EXPERIMENTS", "ExperimentResult", "Finding", "get_experiment"]

#: The experiments by name: ``name -> (module, function)`` under
#: ``skrelrep.experiments``, imported on demand so that heavy optional dependencies
#: load only for the experiment that needs them. ``"demo"`` is ``skrelrep demo``.
EXPERIMENTS = {
    "demo": ("vision", "run_demo"),
    "vision": ("vision", "run_vision"),
    "anchors": ("anchors", "run_anchors"),
    "latent": ("latent", "run_latent"),
    "words": ("words", "run_words"),
    "text": ("text", "run_text"),
    "crosslingual": ("text", "run_crosslingual"),
    "migration": ("migration", "run_migration"),
    "reconstruction": ("reconstruction", "run_reconstruction"),
    "training": ("training", "run_training"),
}


def get_experiment(name):
    """The ``run_*`` function of experiment ``name`` (a key of ``EXPERIMENTS``).

    It runs with the BLAS libraries held at one thread (restored afterwards). The
    experiments fit thousands of small models (the decoders' inner cross-validation
    above all), whose products gain nothing from BLAS threads and, on a shared
    2-core machine, ran about six times slower with two: ``skrelrep reproduce
    crosslingual`` took 545 s, and 82 s with one. The encoders (torch, gensim, e5)
    keep their own threads.
    """
    if name not in EXPERIMENTS:
        raise ValueError(
            f"Unknown experiment {name!r}; choose from {sorted(EXPERIMENTS)}."
        )
    module, function = EXPERIMENTS[name]
    run = getattr(importlib.import_module(f"{__name__}.{module}"), function)

    @functools.wraps(run)
    def run_with_one_blas_thread(*args, **kwargs):
        with single_threaded_blas():
            return run(*args, **kwargs)

    return run_with_one_blas_thread
