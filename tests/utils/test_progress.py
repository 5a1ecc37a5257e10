"""Tests for progress bars: shown where a person watches, quiet in tests and CI."""

import io
import sys
import types

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skrelrep.encoders import (
    E5SmallEncoder,
    EfficientNetLiteEncoder,
    FastTextEncoder,
    MiniLML3Encoder,
    MiniLML6Encoder,
    Word2VecEncoder,
    _base,
)
from skrelrep.utils._progress import progress, progress_bar, progress_wanted

CORPUS = [["the", "cat", "sat"], ["the", "dog", "sat"]] * 10
ENCODERS = [
    E5SmallEncoder,
    EfficientNetLiteEncoder,
    FastTextEncoder,
    MiniLML3Encoder,
    MiniLML6Encoder,
    Word2VecEncoder,
]


class FakeTTY(io.StringIO):
    """A stderr that says it is a terminal, and keeps what is written to it."""

    def isatty(self):
        return True


class ToyEncoder(_base.FrozenEncoder):
    """The frozen encoders' batch loop with no model: rows in, zeros out."""

    _embedding_dim = 2
    _parameter_constraints: dict = {
        "batch_size": [int],
        "verbose": ["verbose", None],
    }

    def __init__(self, *, batch_size=2, verbose=None):
        self.batch_size = batch_size
        self.verbose = verbose

    def _check_input(self, X):
        return np.asarray(X, dtype=float)

    def _model_key(self):
        return ("toy",)

    def _load_model(self):
        return None

    def _embed(self, model, batch):
        return np.zeros((len(batch), 2), dtype=np.float32)


@pytest.fixture(autouse=True)
def unwatched_environment(monkeypatch):
    """No CI or TQDM_DISABLE from the machine running the tests; a fresh model cache."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    monkeypatch.setattr(_base, "_MODEL_CACHE", {})


def _tty(monkeypatch):
    """Make stderr a terminal, in the test's body: pytest's capture resets sys.stderr
    after fixtures are set up."""
    pytest.importorskip("tqdm")
    stream = FakeTTY()
    monkeypatch.setattr(sys, "stderr", stream)
    return stream


def _fit_word2vec(**params):
    pytest.importorskip("gensim")
    return Word2VecEncoder(
        vector_size=4, min_count=1, epochs=3, random_state=0, **params
    ).fit(CORPUS)


def _show():
    """Run, with defaults, the three paths that draw bars: the helper, the frozen
    encoders' batch loop and gensim's epochs."""
    list(progress(range(3), description="work", leave=True))
    ToyEncoder().transform(np.zeros((5, 1)))  # 3 batches of 2
    _fit_word2vec()


# -- the default: on a terminal, not elsewhere -----------------------------------------
def test_a_terminal_shows_bars_by_default(monkeypatch):
    tty = _tty(monkeypatch)
    _show()
    shown = tty.getvalue()
    assert "work" in shown and "3/3" in shown
    assert "ToyEncoder" in shown
    assert "epochs" in shown


def test_captured_output_shows_nothing_by_default(capsys):
    items = range(3)
    assert progress(items) is items  # not even wrapped
    assert progress_wanted() is False
    _show()
    assert capsys.readouterr().err == ""


def test_a_stderr_without_isatty_counts_as_not_watched(monkeypatch):
    monkeypatch.setattr(sys, "stderr", object())
    assert progress_wanted() is False
    monkeypatch.setattr(sys, "stderr", None)  # pythonw, some daemons
    assert progress_wanted() is False


# -- verbose forces either -------------------------------------------------------------
@pytest.mark.parametrize("verbose", [True, 1, 2])
def test_verbose_forces_bars_where_nobody_watches(capsys, verbose):
    pytest.importorskip("tqdm")
    list(progress(range(3), description="work", leave=True, enabled=verbose))
    ToyEncoder(verbose=verbose).transform(np.zeros((5, 1)))
    _fit_word2vec(verbose=verbose)
    shown = capsys.readouterr().err
    assert "work" in shown and "ToyEncoder" in shown and "epochs" in shown


@pytest.mark.parametrize("verbose", [False, 0])
def test_verbose_false_silences_a_terminal(monkeypatch, verbose):
    tty = _tty(monkeypatch)
    assert progress(range(3), enabled=verbose) == range(3)
    ToyEncoder(verbose=verbose).transform(np.zeros((5, 1)))
    _fit_word2vec(verbose=verbose)
    assert progress_bar(total=3, enabled=verbose).update() is None
    assert tty.getvalue() == ""


# -- the environment ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["TQDM_DISABLE", "CI"])
@pytest.mark.parametrize("value", ["1", "true", "True", "yes"])
def test_tqdm_disable_and_ci_silence_a_terminal(monkeypatch, name, value):
    tty = _tty(monkeypatch)
    monkeypatch.setenv(name, value)
    _show()
    assert tty.getvalue() == ""


@pytest.mark.parametrize("value", ["", "0", "false", "no"])
def test_false_values_of_tqdm_disable_and_ci_are_unset(monkeypatch, value):
    _tty(monkeypatch)
    monkeypatch.setenv("TQDM_DISABLE", value)
    monkeypatch.setenv("CI", value)
    assert progress_wanted() is True


def test_verbose_true_beats_tqdm_disable(capsys, monkeypatch):
    # As with tqdm: an argument passed in the call wins over the environment.
    pytest.importorskip("tqdm")
    monkeypatch.setenv("TQDM_DISABLE", "1")
    ToyEncoder(verbose=True).transform(np.zeros((5, 1)))
    assert "3/3" in capsys.readouterr().err


def _fake_ipython(monkeypatch, config):
    shell = types.SimpleNamespace(config=config)
    module = types.ModuleType("IPython")
    module.get_ipython = lambda: shell
    monkeypatch.setitem(sys.modules, "IPython", module)


def test_a_notebook_counts_as_watched(monkeypatch, capsys):
    # A kernel's stderr is no terminal; tqdm.auto draws a widget there instead.
    _fake_ipython(monkeypatch, {"IPKernelApp": {}})
    assert progress_wanted() is True
    monkeypatch.setenv("CI", "true")  # a notebook executed by CI is not watched
    assert progress_wanted() is False


def test_a_terminal_ipython_is_judged_by_its_stderr(monkeypatch, capsys):
    _fake_ipython(monkeypatch, {"TerminalIPythonApp": {}})
    assert progress_wanted() is False  # capsys's stderr, even under pytest -s
    monkeypatch.setattr(sys, "stderr", FakeTTY())
    assert progress_wanted() is True


# -- without tqdm --------------------------------------------------------------------------
def test_without_tqdm_there_are_no_bars_and_no_error(monkeypatch, capsys):
    pytest.importorskip("gensim")
    for name in ("tqdm", "tqdm.auto"):
        monkeypatch.setitem(sys.modules, name, None)  # makes `import` fail
    items = range(3)
    assert progress(items, enabled=True) is items
    progress_bar(total=3, enabled=True).update()
    E = ToyEncoder(verbose=True).transform(np.zeros((5, 1)))
    assert E.shape == (5, 2)
    assert _fit_word2vec(verbose=True).vectors_.shape[1] == 4
    assert capsys.readouterr().err == ""


# -- the encoders' parameter -------------------------------------------------------------
@pytest.mark.parametrize("encoder", ENCODERS, ids=lambda cls: cls.__name__)
def test_encoders_default_to_auto_and_reject_other_values(encoder):
    assert encoder().get_params()["verbose"] is None
    with pytest.raises(InvalidParameterError, match="verbose"):
        encoder(verbose="yes")._validate_params()
    for value in (None, True, False, 0, 1):
        encoder(verbose=value)._validate_params()


# -- the command line ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("flags", "expected"),
    [((), None), (("--progress",), True), (("--no-progress",), False)],
)
def test_the_command_line_passes_the_progress_choice_on(
    monkeypatch, tmp_path, toy_result, flags, expected
):
    from skrelrep import cli

    seen = []

    def get(name):
        def run(settings, *, random_state, show_progress):
            seen.append(show_progress)
            return toy_result(name)

        return types.SimpleNamespace(quick="quick", full="full", run=run)

    monkeypatch.setattr(cli, "get_experiment", get)
    assert cli.main(["demo", "--quick", *flags, "--out", str(tmp_path)]) == 0
    assert seen == [expected]
