"""Fixtures shared by the test modules: data sets, encoders, a memory tracer."""

import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split

from skrelrep import MLPEncoder


@pytest.fixture
def blobs():
    """Four Gaussian clusters in 12-d: 300 rows and their cluster labels."""
    rng = np.random.RandomState(0)
    centers = rng.normal(size=(4, 12)) * 3
    y = rng.randint(4, size=300)
    X = centers[y] + rng.normal(size=(300, 12))
    return X, y


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's digits, pixels scaled to [0, 1]: ``(X, y)``."""
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(scope="session")
def digits_split(digits):
    """The digits split in halves, stratified: ``X_train, X_test, y_train, y_test``."""
    X, y = digits
    return train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)


@pytest.fixture(scope="session")
def seed_encoders(digits_split):
    """Three MLP encoders of the digits that differ only by their seed, frozen."""
    X_train, _, y_train, _ = digits_split
    with warnings.catch_warnings():
        # Trained briefly on purpose; their convergence is not under test.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return [
            FrozenEstimator(
                MLPEncoder((32,), tol=1e-2, random_state=seed).fit(X_train, y_train)
            )
            for seed in (0, 1, 2)
        ]


def _traced_peak(function):
    """``(function(), peak bytes)`` allocated through Python's allocators.

    NumPy reports its buffers to tracemalloc, so the peak includes every array
    allocated while ``function`` runs.
    """
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline, _ = tracemalloc.get_traced_memory()
        result = function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak - baseline


@pytest.fixture
def traced_peak():
    """The memory tracer: ``result, peak = traced_peak(lambda: ...)``."""
    return _traced_peak


def _toy_result(name):
    """An ExperimentResult with a results table, a summary and one finding."""
    import pandas as pd

    from skrelrep.experiments import ExperimentResult, Finding

    return ExperimentResult(
        name=name,
        title=f"Toy {name}",
        description=f"The {name} toy.",
        tables={
            "results": pd.DataFrame({"x": [1, 2]}),
            "summary": pd.DataFrame({"m": [0.5]}),
        },
        findings=[Finding(f"{name} works", True, "m=0.5")],
    )


@pytest.fixture
def toy_result():
    """The factory of toy experiment results: ``toy_result(name)``."""
    return _toy_result


@pytest.fixture
def fake_experiments(monkeypatch):
    """Replace the command line's experiments: ``behaviour[name]`` is called with the
    name (default: a toy result); the names run are recorded in ``calls``."""
    from types import SimpleNamespace

    from skrelrep import cli

    calls, behaviour = [], {}

    def get(name):
        def run(settings, *, random_state, show_progress):
            calls.append(name)
            return behaviour.get(name, _toy_result)(name)

        return SimpleNamespace(name=name, quick="quick", full="full", run=run)

    monkeypatch.setattr(cli, "get_experiment", get)
    return calls, behaviour
