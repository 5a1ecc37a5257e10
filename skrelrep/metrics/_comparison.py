"""What :func:`compare_spaces` returns, and what each of its measures means."""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..relative import RelativeTransformer

__all__ = ["MEANINGS", "SpaceComparison"]

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
        ``"label_purity_a@10"`` and ``"label_purity_b@10"``; with an approximate
        search, its recall (``"knn_recall_a@10"``, ...). This is what ``skrelrep
        compare`` writes to ``metrics.json``.
    measures : pandas.DataFrame
        One row per measure: ``measure``, ``codes`` (``"raw"`` or ``"relative"``:
        the spaces as given, or relative codes on the parallel anchors), ``value``,
        ``null_mean`` (the mean of its permutation null, the chance level),
        ``pvalue`` (NaN without permutations) and ``meaning``.
    nulls : dict of str to ndarray of shape (n_permutations,)
        Each measure on the spaces with the rows of ``B`` permuted.
    neighbour_agreement : ndarray of shape (n_samples,)
        Per item, the share of its ``k`` nearest neighbours (cosine, in the spaces as
        given) that it has in both spaces, ties averaged; their mean is
        ``mutual_knn@k``.
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
    knn_algorithm : str
        ``"exact"`` or ``"faiss"``: how the neighbour tables were searched.
    knn_recall : dict of str to float
        With ``"faiss"``: per table (``"a"``, ``"b"``, ``"codes_b"``,
        ``"codes_ab"``), the share of the exact ``k`` nearest rows that the search
        found, measured on a sample of rows. Empty for an exact search.
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
    knn_algorithm: str = "exact"
    knn_recall: dict = field(default_factory=dict)

    def __repr__(self):
        (n, width_a), (_, width_b) = self.shapes
        return (
            f"SpaceComparison({n} items, widths {width_a} and {width_b}, "
            f"{self.n_anchors} anchors, k={self.k}, "
            f"{self.n_permutations} permutations)"
        )
