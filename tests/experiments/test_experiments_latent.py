"""The latent-similarity experiment: its claims can fail, and its pieces compute."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from skrelrep.experiments import _performance, latent
from skrelrep.experiments._performance import (
    MEASURE,
    correlation_summary,
    correlations,
    performance_findings,
)
from skrelrep.experiments.latent import chance_mrr, seed_findings


def test_chance_mrr_is_the_mean_reciprocal_of_uniform_ranks():
    assert chance_mrr(1) == 1.0
    assert chance_mrr(3) == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)
    # Against simulated random ranks.
    rng = np.random.RandomState(0)
    ranks = rng.randint(1, 201, size=200_000)
    assert chance_mrr(200) == pytest.approx(np.mean(1 / ranks), rel=0.02)


def _seed_results(*, cosine, mrr):
    """Tidy seed-pair results; ``cosine`` and ``mrr`` are ``(absolute, relative)``,
    each one value per pair."""
    values = {
        (space, metric): per_space[i]
        for metric, per_space in [("cosine", cosine), ("MRR", mrr)]
        for i, space in enumerate(["absolute", "relative"])
    }
    rows = [
        (f"pair {i}", space, metric, value)
        for (space, metric), per_pair in values.items()
        for i, value in enumerate(per_pair)
    ]
    return pd.DataFrame(rows, columns=["pair", "space", "metric", "value"])


def test_seed_findings_hold_where_the_numbers_say_so():
    results = _seed_results(
        cosine=([0.01, 0.03, 0.0], [0.98, 0.99, 0.97]),
        mrr=([0.02, 0.01, 0.015], [0.95, 0.97, 0.96]),
    )
    assert [finding.holds for finding in seed_findings(results, 500)] == [True] * 3


def test_seed_findings_can_fail():
    # Relative ahead but by less than the margin; one pair's relative MRR too low;
    # absolute codes that do match.
    results = _seed_results(
        cosine=([0.40, 0.45, 0.50], [0.85, 0.90, 0.95]),
        mrr=([0.20, 0.25, 0.30], [0.95, 0.40, 0.96]),
    )
    findings = seed_findings(results, 500)
    assert [finding.holds for finding in findings] == [False] * 3
    assert "> 0.50" in findings[0].claim
    assert f"chance {chance_mrr(500):.3f}" in findings[1].evidence
    # Relative below absolute in one pair: no, however large the mean gap.
    one_pair_behind = _seed_results(
        cosine=([0.0, 0.0, 0.9], [1.0, 1.0, 0.8]),
        mrr=([0.0, 0.0, 0.0], [1.0, 1.0, 1.0]),
    )
    assert not seed_findings(one_pair_behind, 500)[0].holds


def _correlations(rhos, pvalues):
    rows = [
        (MEASURE, draw, rho, pvalue)
        for draw, (rho, pvalue) in enumerate(zip(rhos, pvalues, strict=True))
    ]
    return pd.DataFrame(rows, columns=["measure", "draw", "spearman rho", "p-value"])


def test_performance_findings_hold_and_can_fail():
    strong = performance_findings(
        _correlations([0.9, 0.92, 0.88], [1e-6, 1e-7, 1e-5]), n_models=20
    )
    assert [finding.holds for finding in strong] == [True, True]
    assert "20 models" in strong[0].claim
    # A weak correlation that is not distinguishable from none.
    weak = performance_findings(
        _correlations([0.3, 0.5, 0.4], [0.2, 0.05, 0.1]), n_models=20
    )
    assert [finding.holds for finding in weak] == [False, False]
    # Strong on average, one anchor draw below the threshold: no.
    uneven = performance_findings(
        _correlations([0.95, 0.95, 0.6], [1e-6, 1e-6, 1e-3]), n_models=20
    )
    assert not uneven[0].holds


def test_correlations_rank_models_by_accuracy():
    accuracy = np.array([0.1, 0.5, 0.3, 0.9])
    models = pd.DataFrame(
        {
            "model": np.tile(np.arange(4), 2),
            "draw": np.repeat([0, 1], 4),
            "accuracy": np.tile(accuracy, 2),
            MEASURE: np.tile(accuracy**2, 2),  # monotone: rho 1
            "relative MRR": np.tile(-accuracy, 2),  # reversed: rho -1
            "absolute linear CKA": np.tile([0.4, 0.1, 0.3, 0.2], 2),
        }
    )
    table = correlations(models).set_index(["measure", "draw"])["spearman rho"]
    assert table[(MEASURE, 0)] == pytest.approx(1.0)
    assert table[("relative MRR", 1)] == pytest.approx(-1.0)
    assert table[("absolute linear CKA", 0)] == pytest.approx(-0.8)
    summary = correlation_summary(correlations(models))
    assert list(summary["measure"]) == [MEASURE, "relative MRR", "absolute linear CKA"]
    assert summary.loc[0, "spearman rho"].startswith("1.000 ± 0.000")


def test_models_of_varied_quality_run_small():
    """A few tiny models: the tables' shapes and ranges (not whether the claim holds)."""
    tiny = replace(
        latent.SPEC.quick.performance,
        sizes=(600, 2000),  # Fashion-MNIST's sizes, unused on digits
        epochs=(1, 5),
        n_test=150,
        n_anchors=30,
        draws=2,
        digits_sizes=(60, 200),
    )
    data = _performance.digits_data(tiny, random_state=0)
    trained = _performance.train_models(data, tiny, show_progress=False)
    assert [model[1] for model in trained.models] == [60, 60, 200, 200]
    assert len(trained.pool) == 30 and len(trained.draws) == 2
    models, table = _performance.measure_models(trained)
    assert models["model"].nunique() == 4 and len(models) == 8
    assert models["accuracy"].between(0, 1).all()
    assert models[MEASURE].between(-1, 1).all()
    assert set(table["measure"]) == {MEASURE, "relative MRR", "absolute linear CKA"}
    assert len(table) == 3 * 2
    figure = _performance.performance_figure(models, data.name)
    assert len(figure.axes) == 3  # two panels and the colour bar
