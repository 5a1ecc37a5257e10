"""Every measure of agreement between two spaces of the same items, with their nulls.

:func:`compare_spaces` is what ``skrelrep compare`` runs: the measures for raw spaces
(linear CKA, debiased CKA, mutual k-NN) on the embeddings as given, and the measures
that need matching columns (the paper's cross-space retrieval, cosine agreement) on
relative representations over parallel anchors, each with a permutation p-value.
"""

import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state, check_scalar

from ..relative import RelativeTransformer
from ._agreement import cosine_agreement
from ._chance import ChanceAgreementWarning
from ._cka import linear_cka
from ._neighbourhoods import neighbour_table, shared_counts
from ._retrieval import agreement_of_neighbours, retrieval_neighbours
from ._validation import check_batch_size, check_pair

__all__ = ["SpaceComparison", "compare_spaces"]

# What each measure means, in the report's words: name -> (codes, meaning). "raw":
# computed on the spaces as given (any widths); "relative": on relative codes over
# parallel anchors, because the measure compares coordinates across the spaces.
MEANINGS = {
    "linear_cka": (
        "raw",
        "linear CKA: how alike the two spaces' similarity structures are (1: the "
        "same up to rotation, scale and shift); inflated on small samples",
    ),
    "debiased_cka": (
        "raw",
        "linear CKA with the unbiased HSIC estimator: about 0 for unrelated spaces "
        "at any sample size",
    ),
    "mutual_knn@{k}": (
        "raw",
        "share of each item's {k} nearest neighbours that it has in both spaces "
        "(chance: about {k} / n)",
    ),
    "retrieval_jaccard@{k}": (
        "relative",
        "Jaccard index of the {k} rows of B retrieved by an item's A code and by its "
        "B code (the paper's Table 1)",
    ),
    "retrieval_mrr@{k}": (
        "relative",
        "reciprocal rank of the item itself among the {k} rows of B its A code "
        "retrieves (0 when it is not among them)",
    ),
    "cosine_agreement": (
        "relative",
        "mean cosine between each item's two relative codes",
    ),
}


@dataclass(frozen=True, repr=False)
class SpaceComparison:
    """What :func:`compare_spaces` returns.

    Attributes
    ----------
    metrics : dict of str to float
        A flat mapping: each measure by name (``"linear_cka"``, ``"debiased_cka"``,
        ``"mutual_knn@10"``, ``"retrieval_jaccard@10"``, ``"retrieval_mrr@10"``,
        ``"cosine_agreement"``), its permutation p-value under the name with
        ``"_pvalue"`` appended (when ``n_permutations > 0``), and with labels
        ``"label_purity_a@10"`` and ``"label_purity_b@10"``. This is what
        ``skrelrep compare`` writes to ``metrics.json``.
    measures : pandas.DataFrame
        One row per measure: ``measure``, ``codes`` (``"raw"`` or ``"relative"``:
        the spaces as given, or relative codes on the parallel anchors), ``value``,
        ``null_mean`` (the mean of its permutation null, the chance level),
        ``pvalue`` (NaN without permutations) and ``meaning``.
    nulls : dict of str to ndarray of shape (n_permutations,)
        Each measure on the spaces with the rows of ``B`` permuted.
    neighbour_agreement : ndarray of shape (n_samples,)
        Per item, the share of its ``k`` nearest neighbours (cosine, in the spaces as
        given) that it has in both spaces; their mean is ``mutual_knn@k``.
    anchor_indices : ndarray of shape (n_anchors,)
        The rows used as parallel anchors.
    evaluated_indices : ndarray of shape (n_samples - n_anchors,)
        The rows the relative measures are computed on: every row but the anchors.
    anchor_similarities_a, anchor_similarities_b : ndarray of shape \
(n_anchors, n_anchors)
        The relative codes of the anchors themselves in each space: the cosines
        between the centred anchors, the similarity structure the relative codes see.
    per_class : pandas.DataFrame or None
        With labels: per label, ``n_items`` and the mean neighbour agreement
        (``mutual_knn@k`` within the class).
    relative_a, relative_b : RelativeTransformer
        The fitted transformers that give each space's relative codes
        (``relative_b`` is ``relative_a.reanchor(B[anchor_indices])``).
    k, n_anchors, n_permutations : int
        The parameters used (``n_anchors`` at most half the items).
    shapes : tuple
        The shapes of ``A`` and ``B``.
    """

    metrics: dict
    measures: pd.DataFrame
    nulls: dict
    neighbour_agreement: np.ndarray
    anchor_indices: np.ndarray
    evaluated_indices: np.ndarray
    anchor_similarities_a: np.ndarray
    anchor_similarities_b: np.ndarray
    per_class: pd.DataFrame | None
    relative_a: RelativeTransformer
    relative_b: RelativeTransformer
    k: int
    n_anchors: int
    n_permutations: int
    shapes: tuple = field(default=())

    def __repr__(self):
        (n, width_a), (_, width_b) = self.shapes
        return (
            f"SpaceComparison({n} items, widths {width_a} and {width_b}, "
            f"{self.n_anchors} anchors, k={self.k}, "
            f"{self.n_permutations} permutations)"
        )


def compare_spaces(
    A,
    B,
    *,
    n_anchors=300,
    k=10,
    labels=None,
    n_permutations=99,
    random_state=0,
    batch_size=None,
):
    """Compare two embedding spaces of the same items, with a permutation test each.

    Row ``i`` of ``A`` and of ``B`` is the same item (two models, two checkpoints, two
    layers); the widths may differ. Two kinds of measure are computed:

    - on the spaces as given, which need no matching columns: :func:`linear_cka`,
      plain and debiased, and :func:`mutual_knn`;
    - on relative representations over ``n_anchors`` parallel anchors (random items,
      whose rows in ``A`` and ``B`` are the same items): a
      :class:`~skrelrep.RelativeTransformer` (centred cosines) is fitted on ``A``
      and re-anchored on ``B``'s rows of the same items, so that column ``j`` of both
      codes is the similarity to the same anchor item. Measures that compare
      coordinates across the spaces are meaningful only there:
      :func:`retrieval_agreement` (the paper's Jaccard@k and MRR@k) and
      :func:`cosine_agreement`. On raw embeddings of two models they sit at chance.
      They are computed on the items that are not anchors: an anchor's code holds
      its similarity 1 to itself in both spaces, an agreement by construction.

    Each measure gets a one-sided permutation p-value (as :func:`permutation_test`,
    every measure on the same permutations of ``B``'s rows): the share of
    permutations scoring at least the observed value, counting the observed one, so
    it is never below ``1 / (n_permutations + 1)``. The nulls of the neighbour
    measures reuse each space's neighbours (a permutation only relabels them), so
    they cost ``O(n_samples * k)`` per permutation; the two CKAs are recomputed,
    ``O(n_samples * (n_features_a + n_features_b)^2)`` each. The measures'
    :class:`ChanceAgreementWarning` is not raised: the p-values say whether an
    agreement is more than chance.

    Parameters
    ----------
    A : array-like of shape (n_samples, n_features_a)
        The items in the first space.
    B : array-like of shape (n_samples, n_features_b)
        The same items, in the same order, in the second space.
    n_anchors : int, default=300
        Parallel anchors of the relative codes, drawn at random among the items (at
        most half of them; more than ``k`` items must remain).
    k : int, default=10
        Neighbours of the neighbour measures, ``1 <= k < n_samples``.
    labels : array-like of shape (n_samples,), default=None
        A label per item. Adds ``label_purity_a@k`` and ``label_purity_b@k`` (the
        mean share of an item's ``k`` neighbours in each space that share its label)
        and a per-label table of neighbour agreement.
    n_permutations : int, default=99
        Permutations of the null; 0 computes no p-values.
    random_state : int, RandomState instance or None, default=0
        Draws the anchors and the permutations. With an int, the nulls are those of
        :func:`permutation_test` with ``random_state=random_state``: on ``A`` and
        ``B`` for the measures of the raw spaces, and on the relative codes of the
        evaluated items for the others.
    batch_size : int, default=None
        Rows whose similarities to all rows are held at once. By default as many as
        scikit-learn's ``working_memory`` allows.

    Returns
    -------
    comparison : SpaceComparison
        ``metrics`` (a flat dict), ``measures`` (a tidy table with p-values),
        ``nulls``, ``neighbour_agreement`` per item, the anchors and their
        similarities; see :class:`SpaceComparison`.

    See Also
    --------
    skrelrep.plotting.plot_permutation_nulls : The measures against their nulls.

    Examples
    --------
    >>> import numpy as np
    >>> from skrelrep.metrics import compare_spaces
    >>> rng = np.random.RandomState(0)
    >>> A = rng.normal(size=(200, 16))

    A second model that sees the same items in another basis, with noise, and wider:

    >>> rotation = np.linalg.qr(rng.normal(size=(24, 24)))[0][:16]
    >>> B = A @ rotation + 0.1 * rng.normal(size=(200, 24))
    >>> comparison = compare_spaces(A, B, n_anchors=50, k=10, n_permutations=19)
    >>> comparison
    SpaceComparison(200 items, widths 16 and 24, 50 anchors, k=10, 19 permutations)
    >>> round(comparison.metrics["debiased_cka"], 2)
    0.99
    >>> comparison.metrics["mutual_knn@10_pvalue"]  # the smallest possible: 1 / 20
    0.05
    >>> print(comparison.measures[["measure", "codes", "value", "pvalue"]].round(2))
                    measure     codes  value  pvalue
    0            linear_cka       raw   0.99    0.05
    1          debiased_cka       raw   0.99    0.05
    2         mutual_knn@10       raw   0.87    0.05
    3  retrieval_jaccard@10  relative   0.83    0.05
    4      retrieval_mrr@10  relative   1.00    0.05
    5      cosine_agreement  relative   0.99    0.05

    Two unrelated spaces: every measure is near its chance level (``null_mean``) and
    no p-value is small.

    >>> unrelated = compare_spaces(A, rng.normal(size=(200, 24)), n_permutations=19)
    >>> bool(unrelated.measures["pvalue"].min() > 0.05)
    True
    """
    A, B = check_pair(A, B, same_width=False)
    n_samples = A.shape[0]
    check_scalar(n_anchors, "n_anchors", numbers.Integral, min_val=1)
    check_scalar(k, "k", numbers.Integral, min_val=1)
    check_scalar(n_permutations, "n_permutations", numbers.Integral, min_val=0)
    check_batch_size(batch_size)
    if k >= n_samples:
        raise ValueError(
            f"k={k} must be smaller than the number of rows ({n_samples}): each row's "
            "neighbours are the other rows."
        )
    if n_samples < 4:
        raise ValueError(
            f"compare_spaces needs at least 4 items (debiased CKA), got {n_samples}."
        )
    labels = _check_labels(labels, n_samples)
    # An anchor's relative code holds its similarity 1 to itself in both spaces: that
    # would count as agreement, so the relative measures use the other items only.
    n_anchors = min(n_anchors, n_samples // 2)
    if n_samples - n_anchors <= k:
        raise ValueError(
            f"k={k} needs more than k items besides the {n_anchors} anchors; got "
            f"{n_samples} items. Use a smaller k."
        )

    relative_a = RelativeTransformer(
        n_anchors=n_anchors, random_state=random_state, batch_size=batch_size
    ).fit(A)
    anchor_indices = np.asarray(relative_a.anchor_indices_)
    relative_b = relative_a.reanchor(B[anchor_indices])
    codes_a, codes_b = relative_a.transform(A), relative_b.transform(B)
    evaluated = np.setdiff1d(np.arange(n_samples), anchor_indices)
    held_a, held_b = codes_a[evaluated], codes_b[evaluated]
    n_held = evaluated.shape[0]

    neighbours_a = neighbour_table(A, k, batch_size)
    neighbours_b = neighbour_table(B, k, batch_size)
    truth, found = retrieval_neighbours(held_a, held_b, k=k)

    def raw_scores(order):
        """The measures of the spaces as given, ``B``'s rows in ``order``."""
        # B[order]'s neighbours are B's, relabelled: row i is B's row order[i].
        relabel = np.empty_like(order)
        relabel[order] = np.arange(n_samples)
        shared = shared_counts(neighbours_a, relabel[neighbours_b[order]])
        B_now = B[order] if order is not identity else B
        values = {
            "linear_cka": linear_cka(A, B_now, batch_size=batch_size),
            "debiased_cka": linear_cka(A, B_now, debiased=True, batch_size=batch_size),
            f"mutual_knn@{k}": float(np.mean(shared / k)),
        }
        return values, shared

    def relative_scores(order):
        """The measures of the held-out relative codes, ``B``'s rows in ``order``."""
        jaccard, mrr = agreement_of_neighbours(truth[order], found, order)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ChanceAgreementWarning)
            cosine = cosine_agreement(held_a, held_b[order])
        return {
            f"retrieval_jaccard@{k}": jaccard,
            f"retrieval_mrr@{k}": mrr,
            "cosine_agreement": cosine,
        }

    identity = np.arange(n_samples)
    observed, shared = raw_scores(identity)
    observed.update(relative_scores(np.arange(n_held)))
    nulls = {name: np.empty(n_permutations) for name in observed}
    # Two streams of the same seed: the draws of permutation_test(..., random_state=
    # random_state) on (A, B) and on the held-out relative codes.
    # (None or a RandomState instance: one shared stream.)
    rng_raw, rng_relative = (check_random_state(random_state) for _ in range(2))
    for draw in range(n_permutations):
        values, _ = raw_scores(rng_raw.permutation(n_samples))
        values.update(relative_scores(rng_relative.permutation(n_held)))
        for name, value in values.items():
            nulls[name][draw] = value

    meanings = {
        template.format(k=k): (codes, meaning.format(k=k))
        for template, (codes, meaning) in MEANINGS.items()
    }
    metrics, rows = {}, []
    for name, value in observed.items():
        null = nulls[name]
        pvalue = (
            (1 + np.count_nonzero(null >= value)) / (1 + n_permutations)
            if n_permutations
            else np.nan
        )
        metrics[name] = value
        if n_permutations:
            metrics[f"{name}_pvalue"] = float(pvalue)
        codes, meaning = meanings[name]
        null_mean = float(np.mean(null)) if n_permutations else np.nan
        rows.append((name, codes, value, null_mean, float(pvalue), meaning))
    measures = pd.DataFrame(
        rows, columns=["measure", "codes", "value", "null_mean", "pvalue", "meaning"]
    )

    per_class = None
    if labels is not None:
        for side, table in [("a", neighbours_a), ("b", neighbours_b)]:
            same = labels[table] == labels[:, None]
            metrics[f"label_purity_{side}@{k}"] = float(np.mean(same))
        per_class = (
            pd.DataFrame({"label": labels, f"mutual_knn@{k}": shared / k})
            .groupby("label", sort=True)[f"mutual_knn@{k}"]
            .agg(n_items="size", mean="mean")
            .rename(columns={"mean": f"mutual_knn@{k}"})
            .reset_index()
        )

    return SpaceComparison(
        metrics=metrics,
        measures=measures,
        nulls=nulls,
        neighbour_agreement=shared / k,
        anchor_indices=anchor_indices,
        evaluated_indices=evaluated,
        anchor_similarities_a=codes_a[anchor_indices],
        anchor_similarities_b=codes_b[anchor_indices],
        per_class=per_class,
        relative_a=relative_a,
        relative_b=relative_b,
        k=int(k),
        n_anchors=int(n_anchors),
        n_permutations=int(n_permutations),
        shapes=(A.shape, B.shape),
    )


def _check_labels(labels, n_samples):
    if labels is None:
        return None
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != n_samples:
        raise ValueError(
            f"labels must hold one label per item: expected shape ({n_samples},), "
            f"got {labels.shape}."
        )
    return labels
