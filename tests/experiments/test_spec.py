"""The experiments' one runner: steps in order, skips, notes, figure names, settings."""

from dataclasses import FrozenInstanceError, dataclass, fields, is_dataclass, replace

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skrelrep.datasets import DataNotInstalledError
from skrelrep.experiments import EXPERIMENTS, ExperimentSpec, Finding
from skrelrep.experiments._result import slug
from skrelrep.experiments._spec import Run
from skrelrep.experiments._stitching import default_decoder, describe_decoder
from skrelrep.report import write_report


@dataclass(frozen=True)
class ToySettings:
    size: int


PUBLISHED = pd.DataFrame({"m": [0.7]})


def _toy_spec(calls, **steps):
    """A spec whose steps record their order and pass a value along."""

    def load(run):
        calls.append("load")
        return [run.settings.size]

    def encode(data, run):
        calls.append("encode")
        part = run.optional("Extra part", _missing, instead="the rest ran")
        return [*data, 2 * run.settings.size, part]

    def measure(codes, run):
        calls.append("measure")
        return pd.DataFrame({"value": codes[:2], "seed": run.random_state})

    def claims(measured):
        calls.append("claims")
        return [Finding("toys count", bool(measured["value"].sum() == 9), "9")]

    def describe(measured, run):
        calls.append("describe")
        return f"{len(measured)} values, seed {run.random_state}."

    def tables(measured):
        return {"results": measured, "beyond the paper (uniform anchors)": measured}

    def figures(measured):
        from matplotlib.figure import Figure

        return {"Fashion-MNIST (pretrained) matrix": Figure()}

    defaults = dict(
        load=load,
        encode=encode,
        measure=measure,
        claims=claims,
        describe=describe,
        tables=tables,
        figures=figures,
    )
    return ExperimentSpec(
        name="toy",
        title="A toy",
        quick=ToySettings(3),
        full=ToySettings(30),
        published=PUBLISHED,
        **{**defaults, **steps},
    )


def _missing(*args, **kwargs):
    raise DataNotInstalledError(
        "The toy data is not installed. Install it with:\n    apt-get install toy"
    )


def test_a_run_composes_the_steps_in_order(tmp_path):
    calls = []
    result = _toy_spec(calls).run(ToySettings(3), random_state=5)
    assert calls == ["load", "encode", "measure", "claims", "describe"]
    assert result.name == "toy" and result.title == "A toy"
    assert result.skipped is None and result.published is PUBLISHED
    assert result.results["value"].tolist() == [3, 6]
    assert result.results["seed"].tolist() == [5, 5]
    assert [(f.claim, f.holds) for f in result.findings] == [("toys count", True)]
    # The optional part left a note after the description, with its install command.
    assert result.description.splitlines()[0] == "2 values, seed 5."
    assert result.description.splitlines()[2] == (
        "- Extra part skipped: The toy data is not installed. Install it with:"
    )
    assert result.description.endswith("apt-get install toy (the rest ran)")
    # One file name rule for figures and tables.
    assert list(result.figures) == ["toy_fashion_mnist_pretrained_matrix"]
    write_report([result], tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "report.md",
        "toy_beyond_the_paper_uniform_anchors.csv",
        "toy_fashion_mnist_pretrained_matrix.png",
        "toy_results.csv",
    ]


@pytest.mark.parametrize("step", ["load", "encode"])
def test_a_missing_package_or_data_set_skips_the_experiment(step, tmp_path):
    calls = []

    def missing(*args):
        calls.append(step)
        _missing()

    result = _toy_spec(calls, **{step: missing}).run(ToySettings(3))
    assert calls[-1] == step and "measure" not in calls
    assert result.skipped.startswith("The toy data is not installed.")
    assert result.install == "apt-get install toy"
    assert result.description == "" and not result.tables and not result.findings
    assert result.published is PUBLISHED  # still shown in the report
    report = write_report([result], tmp_path).read_text()
    assert "**Skipped: toy** (not installed; see below)." in report
    assert "## A toy\n\nSkipped: The toy data is not installed." in report
    assert "**Published**" in report


def test_an_error_that_is_not_a_missing_package_propagates():
    def broken(codes, run):
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        _toy_spec([], measure=broken).run(ToySettings(3))


def test_figures_without_matplotlib_are_left_out_with_a_note():
    def no_matplotlib(measured):
        raise ImportError("Figures need matplotlib: pip install 'skrelrep[report]'.")

    result = _toy_spec([], figures=no_matplotlib).run(ToySettings(3))
    assert result.skipped is None and result.figures == {}
    assert set(result.tables) == {"results", "beyond the paper (uniform anchors)"}
    assert "- Figures skipped: Figures need matplotlib" in result.description


def test_settings_of_another_experiment_are_refused():
    spec = _toy_spec([])
    with pytest.raises(TypeError, match="settings must be a ToySettings"):
        spec.run({"size": 3})
    with pytest.raises(TypeError, match="settings must be a ToySettings"):
        spec.run(EXPERIMENTS["demo"].quick)
    with pytest.raises(TypeError, match="two instances of one frozen dataclass"):
        replace(spec, quick={"size": 3})

    @dataclass
    class Mutable:
        size: int

    with pytest.raises(TypeError, match="two instances of one frozen dataclass"):
        replace(spec, quick=Mutable(3), full=Mutable(30))
    with pytest.raises(FrozenInstanceError):
        spec.quick = ToySettings(1)


def test_run_optional_returns_the_value_or_none_with_a_note():
    run = Run(ToySettings(1))
    assert run.optional("Part", lambda x: 2 * x, 4) == 8
    assert run.notes == []
    assert run.optional("Part", _missing) is None
    assert run.notes == [
        "Part skipped: The toy data is not installed. Install it with:\n"
        "    apt-get install toy"
    ]
    with pytest.raises(ZeroDivisionError):
        run.optional("Part", lambda: 1 / 0)  # only missing packages become notes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("results", "results"),
        ("digits matrix", "digits_matrix"),
        ("Fashion-MNIST (pretrained) matrix", "fashion_mnist_pretrained_matrix"),
        (
            "recall at 10, fraction of re-embedding",
            "recall_at_10_fraction_of_re_embedding",
        ),
        ("same vs stitched", "same_vs_stitched"),
        ("écart × 2", "cart_2"),
    ],
)
def test_slug_keeps_portable_characters(text, expected):
    assert slug(text) == expected


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_spec_has_frozen_settings_of_one_class(name):
    spec = EXPERIMENTS[name]
    assert is_dataclass(spec.full) and type(spec.quick) is type(spec.full)
    first = fields(spec.full)[0].name
    with pytest.raises(FrozenInstanceError):
        setattr(spec.quick, first, None)
    for step in ("load", "encode", "measure", "claims", "describe", "tables"):
        assert callable(getattr(spec, step)), step
    assert callable(spec.figures)


def test_describe_decoder_reads_the_decoder():
    assert describe_decoder(default_decoder()) == (
        "logistic regression on standardised codes, C chosen among 7 values from "
        "0.0001 to 100 by 3-fold cross-validation on the training rows"
    )
    tuned = LogisticRegressionCV(Cs=[0.1, 1.0, 10.0], cv=5)
    assert describe_decoder(tuned, rows="training lines") == (
        "logistic regression, C chosen among 3 values from 0.1 to 10 by 5-fold "
        "cross-validation on the training lines"
    )
    assert describe_decoder(LogisticRegressionCV(Cs=4)).startswith(
        "logistic regression, C chosen among 4 values on a log scale"
    )
    fixed = make_pipeline(StandardScaler(), LogisticRegression(C=0.5))
    assert describe_decoder(fixed) == (
        "logistic regression on standardised codes, C = 0.5"
    )
    assert describe_decoder(StandardScaler()) == "StandardScaler"
