"""compare_spaces against independent computations, and the plotting helpers."""

import sys

import numpy as np
import pandas as pd
import pytest

from skrelrep import RelativeTransformer
from skrelrep.metrics import (
    compare_spaces,
    cosine_agreement,
    linear_cka,
    mutual_knn,
    permutation_test,
    retrieval_agreement,
)
from skrelrep.plotting import (
    plot_anchor_similarities,
    plot_neighbour_agreement,
    plot_permutation_nulls,
)

N_PERMUTATIONS = 19


def _isometry(width_in, width_out, rng):
    """A ``width_in x width_out`` map with orthonormal rows: it keeps inner products."""
    return np.linalg.qr(rng.normal(size=(width_out, width_out)))[0][:width_in]


@pytest.fixture(scope="module")
def spaces():
    rng = np.random.RandomState(0)
    A = rng.normal(size=(120, 8))
    B = A @ _isometry(8, 12, rng) + 0.5 * rng.normal(size=(120, 12))  # related
    return A, B


@pytest.fixture(scope="module")
def comparison(spaces):
    A, B = spaces
    return compare_spaces(
        A, B, n_anchors=30, k=5, n_permutations=N_PERMUTATIONS, random_state=3
    )


def _brute_neighbours(X, k):
    """Each row's k nearest other rows by cosine, from the full similarity matrix."""
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    similarities = unit @ unit.T
    np.fill_diagonal(similarities, -np.inf)
    return [set(np.argsort(-row)[:k]) for row in similarities]


def _held_out_codes(A, B, n_anchors, random_state):
    """The relative codes of the non-anchor items, built by hand."""
    relative = RelativeTransformer(n_anchors=n_anchors, random_state=random_state)
    relative.fit(A)
    anchors = relative.anchor_indices_
    other = relative.reanchor(B[anchors])
    kept = np.setdiff1d(np.arange(A.shape[0]), anchors)
    return relative.transform(A)[kept], other.transform(B)[kept], anchors, kept


def test_a_rotated_copy_agrees_perfectly_with_minimal_pvalues():
    rng = np.random.RandomState(1)
    A = rng.normal(size=(100, 6))
    B = 3.0 * A @ _isometry(6, 10, rng)  # rotated, rescaled, wider
    result = compare_spaces(A, B, n_anchors=20, k=5, n_permutations=N_PERMUTATIONS)
    values = result.measures.set_index("measure")["value"]
    assert values.to_numpy() == pytest.approx(1.0, abs=1e-9)
    smallest = 1 / (N_PERMUTATIONS + 1)
    assert result.measures["pvalue"].to_numpy() == pytest.approx(smallest)
    assert result.metrics["mutual_knn@5_pvalue"] == pytest.approx(smallest)
    np.testing.assert_array_equal(result.neighbour_agreement, 1.0)
    np.testing.assert_allclose(
        result.anchor_similarities_a, result.anchor_similarities_b, atol=1e-9
    )


def test_independent_spaces_score_chance_and_large_pvalues():
    rng = np.random.RandomState(2)
    n, k = 150, 5
    A, B = rng.normal(size=(n, 10)), rng.normal(size=(n, 7))
    result = compare_spaces(A, B, n_anchors=30, k=k, n_permutations=39)
    assert abs(result.metrics["debiased_cka"]) < 0.05
    # The plain estimator is inflated at this sample size; the debiased one is not.
    assert result.metrics["linear_cka"] > 0.03
    assert result.measures["pvalue"].min() > 0.05
    nulls = result.measures.set_index("measure")["null_mean"]
    assert nulls["mutual_knn@5"] == pytest.approx(k / (n - 1), rel=0.2)
    assert abs(nulls["cosine_agreement"]) < 0.05


def test_metrics_equal_the_measures_computed_independently(spaces, comparison):
    A, B = spaces
    metrics = comparison.metrics
    assert metrics["linear_cka"] == pytest.approx(linear_cka(A, B), rel=1e-12)
    assert metrics["debiased_cka"] == pytest.approx(
        linear_cka(A, B, debiased=True), rel=1e-12
    )
    assert metrics["mutual_knn@5"] == pytest.approx(mutual_knn(A, B, k=5))
    codes_a, codes_b, anchors, kept = _held_out_codes(A, B, 30, 3)
    np.testing.assert_array_equal(np.sort(comparison.anchor_indices), np.sort(anchors))
    np.testing.assert_array_equal(comparison.evaluated_indices, kept)
    agreement = retrieval_agreement(codes_a, codes_b, k=5)
    assert metrics["retrieval_jaccard@5"] == pytest.approx(agreement.jaccard)
    assert metrics["retrieval_mrr@5"] == pytest.approx(agreement.mrr)
    assert metrics["cosine_agreement"] == pytest.approx(
        cosine_agreement(codes_a, codes_b)
    )
    assert 0.1 < metrics["mutual_knn@5"] < 0.9  # related, not identical


def test_per_item_agreement_matches_brute_force_neighbours(spaces, comparison):
    A, B = spaces
    expected = [
        len(a & b) / 5
        for a, b in zip(_brute_neighbours(A, 5), _brute_neighbours(B, 5), strict=True)
    ]
    np.testing.assert_allclose(comparison.neighbour_agreement, expected)


def test_nulls_are_those_of_permutation_test(spaces, comparison):
    """The cheap nulls (relabelled neighbours) equal full recomputations."""
    A, B = spaces
    seed = 3

    def check(name, measure, first, second, **params):
        reference = permutation_test(
            measure,
            first,
            second,
            n_permutations=N_PERMUTATIONS,
            random_state=seed,
            **params,
        )
        np.testing.assert_allclose(comparison.nulls[name], reference.null_distribution)
        assert comparison.metrics[f"{name}_pvalue"] == pytest.approx(reference.pvalue)

    check("linear_cka", linear_cka, A, B)
    check("debiased_cka", linear_cka, A, B, debiased=True)
    check("mutual_knn@5", mutual_knn, A, B, k=5)
    codes_a, codes_b, _, _ = _held_out_codes(A, B, 30, seed)
    check(
        "retrieval_jaccard@5",
        lambda a, b: retrieval_agreement(a, b, k=5).jaccard,
        codes_a,
        codes_b,
    )
    check(
        "retrieval_mrr@5",
        lambda a, b: retrieval_agreement(a, b, k=5).mrr,
        codes_a,
        codes_b,
    )
    check("cosine_agreement", cosine_agreement, codes_a, codes_b)


def test_the_tidy_table_and_the_flat_metrics_agree(comparison):
    frame = comparison.measures
    assert list(frame.columns) == [
        "measure",
        "codes",
        "value",
        "null_mean",
        "pvalue",
        "meaning",
    ]
    assert frame["measure"].tolist() == [
        "linear_cka",
        "debiased_cka",
        "mutual_knn@5",
        "retrieval_jaccard@5",
        "retrieval_mrr@5",
        "cosine_agreement",
    ]
    assert frame["codes"].tolist() == ["raw"] * 3 + ["relative"] * 3
    for row in frame.itertuples():
        assert comparison.metrics[row.measure] == row.value
        assert comparison.metrics[f"{row.measure}_pvalue"] == row.pvalue
        assert row.null_mean == pytest.approx(np.mean(comparison.nulls[row.measure]))
    assert all(isinstance(v, float) for v in comparison.metrics.values())
    assert "120 items, widths 8 and 12, 30 anchors" in repr(comparison)


def test_labels_add_purity_and_a_per_class_table(spaces):
    A, B = spaces
    labels = np.array(["x", "y", "z"])[np.arange(A.shape[0]) % 3]
    result = compare_spaces(A, B, n_anchors=30, k=5, labels=labels, n_permutations=0)
    for side, X in [("a", A), ("b", B)]:
        expected = np.mean(
            [
                np.mean(labels[list(neighbours)] == labels[i])
                for i, neighbours in enumerate(_brute_neighbours(X, 5))
            ]
        )
        assert result.metrics[f"label_purity_{side}@5"] == pytest.approx(expected)
    expected = (
        pd.Series(result.neighbour_agreement).groupby(labels).agg(["size", "mean"])
    )
    table = result.per_class.set_index("label")
    assert table["n_items"].tolist() == expected["size"].tolist()
    np.testing.assert_allclose(table["mutual_knn@5"], expected["mean"])
    with pytest.raises(ValueError, match="one label per item"):
        compare_spaces(A, B, labels=labels[:-1], n_permutations=0)


def test_without_permutations_there_are_no_pvalues(spaces):
    A, B = spaces
    result = compare_spaces(A, B, n_anchors=10, k=3, n_permutations=0)
    assert not any(name.endswith("_pvalue") for name in result.metrics)
    assert result.measures["pvalue"].isna().all()
    assert len(result.metrics) == 6
    with pytest.raises(ValueError, match="no permutation nulls"):
        plot_permutation_nulls(result)


def test_anchors_are_at_most_half_the_items_and_k_must_fit():
    rng = np.random.RandomState(4)
    A, B = rng.normal(size=(20, 3)), rng.normal(size=(20, 4))
    result = compare_spaces(A, B, n_anchors=300, k=3, n_permutations=0)
    assert result.n_anchors == 10 and result.evaluated_indices.shape == (10,)
    with pytest.raises(ValueError, match="k=10 needs more than k items"):
        compare_spaces(A, B, k=10, n_permutations=0)
    with pytest.raises(ValueError, match="same number of rows"):
        compare_spaces(A, B[:-1], n_permutations=0)


def test_plots_draw_the_comparison(comparison):
    import matplotlib.pyplot as plt

    nulls = plot_permutation_nulls(comparison)
    assert [ax.get_visible() for ax in nulls.axes] == [True] * 6
    assert "p = 0.05" in nulls.axes[0].get_title()  # the smallest, 1 / 20
    neighbours = plot_neighbour_agreement(comparison)
    assert len(neighbours.axes) == 2
    heatmaps = plot_anchor_similarities(comparison, names=("one", "two"))
    first, second = (ax.get_images()[0].get_array() for ax in heatmaps.axes[:2])
    assert first.shape == second.shape == (30, 30)
    # Ordered the same: the diagonal of both is each anchor against itself.
    np.testing.assert_allclose(np.diag(first), 1.0)
    np.testing.assert_allclose(np.diag(second), 1.0)
    for figure in (nulls, neighbours, heatmaps):
        plt.close(figure)


def test_plots_without_matplotlib_name_the_extra(comparison, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"skrelrep\[report\]"):
        plot_neighbour_agreement(comparison)
