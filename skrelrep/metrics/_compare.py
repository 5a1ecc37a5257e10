"""Every measure of agreement between two spaces of the same items, with their nulls.

:func:`compare_spaces` is what ``skrelrep compare`` runs: the measures for raw spaces
(linear CKA, debiased CKA, mutual k-NN) on the embeddings as given, and the measures
that need matching columns (the paper's cross-space retrieval, cosine agreement) on
relative representations over parallel anchors, each with a permutation p-value.

Each neighbour table is searched once; a permutation of ``B``'s rows only relabels
it (every measure averages over ties, so it does not depend on the order of rows).
The two CKAs share their Gram terms, and a permutation recomputes only the cross term.
"""

import numbers
import warnings

import numpy as np
import pandas as pd
from sklearn import get_config
from sklearn.utils import check_random_state, check_scalar

from ..relative import RelativeTransformer
from ..utils._norms import normalize_rows
from ..utils._progress import progress
from ._agreement import cosine_agreement
from ._approximate import faiss_table
from ._chance import ChanceAgreementWarning
from ._cka import CKAParts
from ._comparison import MEANINGS, SpaceComparison
from ._knn import format_bytes
from ._neighbourhoods import space_table
from ._permutation import permutation_pvalue
from ._retrieval import agreement_scores, retrieval_tables
from ._validation import check_batch_size, check_k, check_labels, check_pair

__all__ = ["SpaceComparison", "compare_spaces"]

KNN_ALGORITHMS = ("exact", "faiss")


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
    knn_algorithm="exact",
    show_progress=None,
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

    Each measure gets a one-sided permutation p-value, exactly as
    :func:`permutation_test` computes it (every measure on the same permutations of
    ``B``'s rows): the share of permutations scoring at least the observed value,
    counting the observed one, so it is never below ``1 / (n_permutations + 1)``.
    Each space's ``k`` nearest neighbours are searched once (chunked products, within
    scikit-learn's ``working_memory``); tied neighbours are averaged over, so a
    permutation only relabels them (see :ref:`metrics_ties`). The two CKAs keep
    their Gram terms, so a permutation costs one cross product,
    ``O(n_samples * n_features_a * n_features_b)`` (or ``O(n_samples^2)`` when there
    are fewer items than features). The measures' :class:`ChanceAgreementWarning` is
    not raised: the p-values say whether an agreement is more than chance.

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
        A class label per item (integers or strings, none missing). Adds
        ``label_purity_a@k``, ``label_purity_b@k`` and a per-label table.
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
    knn_algorithm : {"exact", "faiss"}, default="exact"
        How neighbours are searched. ``"faiss"``: an approximate HNSW index (needs
        ``faiss-cpu``), for a million items; its recall is measured and reported.
    show_progress : bool or None, default=None
        Progress bars for the searches and the permutations. ``None``: shown where a
        person is watching (a terminal or a notebook).

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
    k = check_k(k, n_samples)
    check_scalar(n_permutations, "n_permutations", numbers.Integral, min_val=0)
    check_batch_size(batch_size)
    if knn_algorithm not in KNN_ALGORITHMS:
        raise ValueError(
            f"knn_algorithm must be one of {KNN_ALGORITHMS}; got {knn_algorithm!r}."
        )
    if n_samples < 4:
        raise ValueError(
            f"compare_spaces needs at least 4 items (debiased CKA), got {n_samples}."
        )
    labels = check_labels(labels, n_samples)
    null_bytes = 8 * len(MEANINGS) * n_permutations
    if null_bytes > get_config()["working_memory"] * 2**20:
        raise ValueError(
            f"n_permutations={n_permutations}: the nulls alone would need "
            f"{format_bytes(null_bytes)}, more than scikit-learn's working_memory. A p-value "
            "needs at most a few thousand permutations (1 / (n_permutations + 1) is "
            "the smallest)."
        )
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
    anchor_similarities = codes_a[anchor_indices], codes_b[anchor_indices]
    del codes_a, codes_b
    n_held = evaluated.shape[0]

    tables, knn_recall = _neighbour_tables(
        A, B, held_a, held_b, k, batch_size, knn_algorithm, random_state, show_progress
    )
    table_a, table_b, truth, found = tables
    cka = CKAParts(A, B, batch_size=batch_size)
    # Inverse row norms once: cosine_agreement of a permutation is one dot product
    # (the codes are cosines, bounded by 1: their products cannot overflow).
    inverse_a, inverse_b = _inverse_norms(held_a), _inverse_norms(held_b)

    def scores(order, order_held):
        """Every measure with ``B``'s rows in ``order`` (its codes in ``order_held``)."""
        if order is None:
            plain, debiased = cka.observed()
            shared = table_a.shared(table_b)
        else:
            plain, debiased = cka.permuted(order)
            relabel = np.empty_like(order)
            relabel[order] = np.arange(n_samples)
            shared = table_a.shared(table_b, rows=order, relabel=relabel)
        targets = np.arange(n_held) if order_held is None else order_held
        jaccard, reciprocal = agreement_scores(truth, found, targets)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ChanceAgreementWarning)
            if order_held is None:
                cosine = cosine_agreement(held_a, held_b)
            else:
                cosines = np.einsum("ij,ij->i", held_a, held_b[order_held])
                cosines *= inverse_a * inverse_b[order_held]
                cosine = float(np.mean(cosines, dtype=np.float64))
        values = {
            "linear_cka": plain,
            "debiased_cka": debiased,
            f"mutual_knn@{k}": float(np.mean(shared / k)),
            f"retrieval_jaccard@{k}": float(np.mean(jaccard)),
            f"retrieval_mrr@{k}": float(np.mean(reciprocal)),
            "cosine_agreement": cosine,
        }
        return values, shared

    observed, shared = scores(None, None)
    nulls = {name: np.empty(n_permutations) for name in observed}
    # Two streams of the same seed: the draws of permutation_test(..., random_state=
    # random_state) on (A, B) and on the held-out relative codes.
    # (None or a RandomState instance: one shared stream.)
    rng_raw, rng_relative = (check_random_state(random_state) for _ in range(2))
    for draw in progress(
        range(n_permutations), description="permutations", enabled=show_progress
    ):
        values, _ = scores(
            rng_raw.permutation(n_samples), rng_relative.permutation(n_held)
        )
        for name, value in values.items():
            nulls[name][draw] = value

    metrics, measures = _tables_of_measures(observed, nulls, k, n_permutations)
    neighbour_agreement = shared / k
    per_class = None
    if labels is not None:
        names, codes = np.unique(labels, return_inverse=True)
        counts = np.bincount(codes, minlength=names.shape[0])
        for side, table in [("a", table_a), ("b", table_b)]:
            purity = table.label_share(codes, counts)
            metrics[f"label_purity_{side}@{k}"] = float(np.mean(purity))
        per_class = (
            pd.DataFrame({"label": labels, f"mutual_knn@{k}": neighbour_agreement})
            .groupby("label", sort=True)[f"mutual_knn@{k}"]
            .agg(n_items="size", mean="mean")
            .rename(columns={"mean": f"mutual_knn@{k}"})
            .reset_index()
        )
    for table, recall in knn_recall.items():
        metrics[f"knn_recall_{table}@{k}"] = recall

    return SpaceComparison(
        metrics=metrics,
        measures=measures,
        nulls=nulls,
        neighbour_agreement=neighbour_agreement,
        anchor_indices=anchor_indices,
        evaluated_indices=evaluated,
        anchor_similarities_a=anchor_similarities[0],
        anchor_similarities_b=anchor_similarities[1],
        per_class=per_class,
        relative_a=relative_a,
        relative_b=relative_b,
        k=int(k),
        n_anchors=int(n_anchors),
        n_permutations=int(n_permutations),
        shapes=(A.shape, B.shape),
        knn_algorithm=knn_algorithm,
        knn_recall=knn_recall,
    )


def _neighbour_tables(
    A, B, held_a, held_b, k, batch_size, algorithm, random_state, show_progress
):
    """The four tables: each space's neighbours, and the codes' retrieval tables."""
    if algorithm == "exact":
        options = dict(batch_size=batch_size, show_progress=show_progress)
        table_a = space_table(A, k, name="A", **options)
        table_b = space_table(B, k, name="B", **options)
        truth, found = retrieval_tables(held_a, held_b, k=k, **options)
        return (table_a, table_b, truth, found), {}
    rng = check_random_state(random_state)
    options = dict(k=k, random_state=rng, show_progress=show_progress)
    tables, recall = [], {}
    for name, X in (("a", A), ("b", B)):
        unit = normalize_rows(X, np)  # one space's unit rows at a time
        table, recall[name] = faiss_table(
            unit, unit, exclude_self=True, ranked=False, name=name, **options
        )
        tables.append(table)
    del unit
    unit_b = normalize_rows(held_b, np)
    for name, queries in (
        ("codes_b", unit_b),
        ("codes_ab", normalize_rows(held_a, np)),
    ):
        table, recall[name] = faiss_table(
            queries,
            unit_b,
            exclude_self=False,
            ranked=name == "codes_ab",
            name=name,
            **options,
        )
        tables.append(table)
    return tuple(tables), recall


def _inverse_norms(X):
    """``1 / |x|`` per row (0 for a zero row), in float64."""
    norms = np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64))
    return np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)


def _tables_of_measures(observed, nulls, k, n_permutations):
    """The flat ``metrics`` dict and the tidy ``measures`` table."""
    meanings = {
        template.format(k=k): (codes, meaning.format(k=k))
        for template, (codes, meaning) in MEANINGS.items()
    }
    metrics, rows = {}, []
    for name, value in observed.items():
        null = nulls[name]
        pvalue = permutation_pvalue(value, null, name) if n_permutations else np.nan
        metrics[name] = value
        if n_permutations:
            metrics[f"{name}_pvalue"] = pvalue
        codes, meaning = meanings[name]
        null_mean = float(np.mean(null)) if n_permutations else np.nan
        rows.append((name, codes, value, null_mean, pvalue, meaning))
    measures = pd.DataFrame(
        rows, columns=["measure", "codes", "value", "null_mean", "pvalue", "meaning"]
    )
    return metrics, measures
