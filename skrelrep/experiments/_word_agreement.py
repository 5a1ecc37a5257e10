"""Agreement of two word embeddings, absolute and relative: the words experiment's
measurements.

The paper notebook's measures (queries from a source space searched among the target
space's words): Jaccard@k of the retrieved words against the target word's own
neighbours, MRR@k, and the cosine between a word's two vectors; beside them, the
library's :func:`~skrelrep.metrics.mean_reciprocal_rank` and
:func:`~skrelrep.metrics.neighbourhood_jaccard`.
"""

import functools
import warnings

import numpy as np
import pandas as pd

from .. import LatentTranslator, RelativeTransformer
from ..metrics import (
    ChanceAgreementWarning,
    cosine_agreement,
    mean_reciprocal_rank,
    neighbourhood_jaccard,
    retrieval_agreement,
)
from ..utils._progress import progress
from ._stitching import product_of_invariances

__all__ = ["beyond_the_paper_words", "summaries", "word_agreement"]

# Display name -> RelativeTransformer anchor_selection.
ANCHORS = {"uniform": "random", "FPS": "fps", "k-means": "kmeans"}
K = 5  # the published table's k
PAPER_METRICS = [f"jaccard@{K}", f"MRR@{K}", "cosine"]
LIBRARY_METRICS = ["MRR", f"neighbourhood jaccard@{K}"]


def _metrics(A, B, k):
    """Every metric of one direction (source ``A``, target ``B``)."""
    agreement = retrieval_agreement(A, B, k=k)
    # The absolute rows measure chance on purpose: the report shows it beside the
    # relative rows, so the metrics' chance warning would only repeat the table.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChanceAgreementWarning)
        cosine, mrr = cosine_agreement(A, B), mean_reciprocal_rank(A, B)
    return {
        f"jaccard@{k}": agreement.jaccard,
        f"MRR@{k}": agreement.mrr,
        "cosine": cosine,
        "MRR": mrr,
        f"neighbourhood jaccard@{k}": neighbourhood_jaccard(A, B, k=k),
    }


def _as_in_the_paper(function):
    """Run ``function`` without the crowding warning of uncentred anchors.

    The paper's setting is uncentred on purpose, and word vectors of a small corpus
    crowd (a mean pairwise cosine of 0.7 on Genesis): the report measures what that
    costs, so the warning would only repeat what the table shows.
    """

    @functools.wraps(function)
    def run(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="The anchors crowd", category=UserWarning
            )
            return function(*args, **kwargs)

    return run


@_as_in_the_paper
def word_agreement(
    vectors,
    *,
    n_anchors=300,
    anchors=ANCHORS,
    seeds=range(10),
    k=K,
    center=False,
    show_progress=None,
):
    """Agreement of two word embeddings, absolute and relative, in both directions.

    For each ordered pair (source, target), seed and anchor choice, anchors are
    chosen among the source's vectors; the target uses the same words (parallel
    anchors), as in the paper.

    Parameters
    ----------
    vectors : dict of str to ndarray of shape (n_words, d)
        Two spaces by name; row ``i`` is the same word in both.
    n_anchors : int, default=300
    anchors : dict of str to str, default=ANCHORS
        Display name -> ``RelativeTransformer`` ``anchor_selection``.
    seeds : iterable of int, default=range(10)
        Seeds of the anchor choice.
    k : int, default=5
    center : bool, default=False
        Centre each space on its anchors' mean (the paper does not).
    show_progress : bool or None, default=None
        Progress bars: ``None`` shows them where a person is watching (a terminal or
        a notebook, not CI), ``True`` forces them, ``False`` hides them.

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``anchors, seed, direction, space, metric, value``. Absolute rows
        (which no anchor choice affects) have ``anchors="none"`` and seed -1.
    """
    names = list(vectors)
    if len(names) != 2:
        raise ValueError(f"vectors must hold two spaces; got {names}.")
    directions = [(names[0], names[1]), (names[1], names[0])]
    rows = []

    def record(anchor_name, seed, source, target, space, A, B):
        for metric, value in _metrics(A, B, k).items():
            rows.append((anchor_name, seed, f"{source}→{target}", space, metric, value))

    for source, target in directions:
        record("none", -1, source, target, "absolute", vectors[source], vectors[target])
    grid = [(name, seed) for name in anchors for seed in seeds]
    for anchor_name, seed in progress(
        grid, description="anchor choices", enabled=show_progress
    ):
        for source, target in directions:
            relative = RelativeTransformer(
                n_anchors,
                anchor_selection=anchors[anchor_name],
                center=center,
                random_state=seed,
            ).fit(vectors[source])
            parallel = relative.reanchor(vectors[target][relative.anchor_indices_])
            record(
                anchor_name,
                seed,
                source,
                target,
                "relative",
                relative.transform(vectors[source]),
                parallel.transform(vectors[target]),
            )
    return pd.DataFrame(
        rows, columns=["anchors", "seed", "direction", "space", "metric", "value"]
    )


@_as_in_the_paper
def beyond_the_paper_words(vectors, *, n_anchors=300, seeds=range(3), k=K):
    """The follow-up methods on the word spaces, uniform anchors, both directions.

    Rows: relative codes with per-feature standardisation on the anchors, the product
    of cosine, Euclidean and L1 relative spaces, and latent space translation (an
    orthogonal map fitted on the anchor words' vectors; the translated source vectors
    are compared with the target's own). Top-k sparse codes are left out: the
    retrieval metrics read dense vectors.

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``method, direction, metric, value`` (mean over ``seeds``).
    """
    names = list(vectors)
    relatives = {
        "relative (paper)": {"center": False},
        "relative, standardised (batch-norm)": {"center": True, "standardize": True},
        "relative, cosine+euclidean+l1": {"similarity": product_of_invariances()},
    }
    rows = []
    for seed in seeds:
        for source, target in [(names[0], names[1]), (names[1], names[0])]:
            A, B = vectors[source], vectors[target]
            for method, params in relatives.items():
                relative = RelativeTransformer(n_anchors, random_state=seed, **params)
                relative.fit(A)
                parallel = relative.reanchor(B[relative.anchor_indices_])
                for metric, value in _metrics(
                    relative.transform(A), parallel.transform(B), k
                ).items():
                    rows.append((method, f"{source}→{target}", metric, value))
            indices = RelativeTransformer(
                n_anchors, center=False, random_state=seed
            ).fit(A)
            indices = np.asarray(indices.anchor_indices_)
            translator = LatentTranslator("orthogonal").fit(A[indices], B[indices])
            for metric, value in _metrics(translator.transform(A), B, k).items():
                rows.append(
                    ("translation (orthogonal)", f"{source}→{target}", metric, value)
                )
    frame = pd.DataFrame(rows, columns=["method", "direction", "metric", "value"])
    table = frame.pivot_table(
        index=["method", "direction"], columns="metric", values="value", sort=False
    ).reset_index()
    table.columns.name = None
    return table


def summaries(frame):
    """Mean and standard deviation over seeds, one row per anchors × direction × space."""
    keys = ["anchors", "direction", "space"]
    order = {name: i for i, name in enumerate([*ANCHORS, "none"])}
    tables = []
    for statistic in ("mean", "std"):
        table = frame.groupby([*keys, "metric"])["value"].agg(statistic)
        table = table.unstack("metric")
        table = table.reindex(columns=PAPER_METRICS + LIBRARY_METRICS).reset_index()
        table.columns.name = None
        rank = table["anchors"].map(order)
        table = table.iloc[np.lexsort((table["direction"], rank))]
        tables.append(table.reset_index(drop=True))
    return tables
