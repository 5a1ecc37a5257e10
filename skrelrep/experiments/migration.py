"""Index migration: query an index built with one model using another model's vectors.

A vector store holds a corpus embedded by model A; a newer model B embeds the queries.
Re-embedding the whole corpus with B is the reference. The alternative keeps A's
index and maps B's queries into it, from a few *parallel anchors*: corpus items
embedded by both models. Three mappings are compared, against the number of anchors:
:class:`~skrelrep.LatentTranslator` (orthogonal, affine), fitted on the anchors, and
relative representations (centred cosines to the anchors) of both the index and the
queries. Mixing B's raw queries into A's index, with no mapping, is shown too.

The corpus is English fortunes (Debian ``fortunes``); each quote is a document, and
its query is its first half (a half-remembered quote), so each query has exactly one
right answer. The corpus is split at random: the anchors are drawn from one part (the
anchor pool), the queries asked for the other, so that no query's own item was an
anchor the mapping was fitted on; every item stays in the index. Scores are
:func:`~skrelrep.metrics.migration_scores`: Recall@1, Recall@10 and MRR@10 of the
mapped queries, as a fraction of re-embedding.

Embedding the corpus with multilingual-e5 is the expensive step (about 0.08 CPU
seconds a quote here, about twice MiniLM-L6's), so each model embeds each text once
per run, and only the held-out items' queries are embedded.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import LatentTranslator, RelativeTransformer
from ..metrics import migration_scores
from ..utils._matplotlib import pyplot
from ..utils._progress import progress
from ._claims import exceeds, falls_to_chance
from ._spec import ExperimentSpec

__all__ = ["SPEC", "MigrationSettings", "half_queries", "migration_curve"]

L6, L3, E5 = "MiniLM-L6", "MiniLM-L3", "e5"
PAIRS = [(L6, L3), (L6, E5)]
METHODS = ["orthogonal translation", "affine translation", "relative (centred)"]
UNMAPPED = "no mapping (mixed)"
# The target: 95 % of re-embedding Recall@10 with at most 1,000 anchors.
TARGET_FRACTION, TARGET_ANCHORS = 0.95, 1000
# The anchor counts at which the two kinds of mapping are compared: few anchors
# (where relative projection should win) and the target's count (translation should).
FEW_ANCHORS = 50
# How much better one mapping must do, in fraction of re-embedding, to count as better.
BETTER_BY = 0.05
# How far above chance Recall@10 unmapped queries may be and still count as chance.
CHANCE_MARGIN = 0.05


def half_queries(texts, *, min_words=8):
    """Documents and their queries: each text, and the first half of its words.

    Texts with fewer than ``min_words`` words are left out (their halves would say
    too little to find them).

    Parameters
    ----------
    texts : list of str
    min_words : int, default=8

    Returns
    -------
    documents, queries : list of str
    """
    documents, queries = [], []
    for text in texts:
        words = text.split()
        if len(words) >= min_words:
            documents.append(" ".join(words))
            queries.append(" ".join(words[: len(words) // 2]))
    return documents, queries


def migration_curve(
    index_a,
    corpus_b,
    queries_b,
    *,
    anchor_counts,
    repeats=1,
    random_state=0,
    show_progress=None,
):
    """Mapped retrieval against the number of parallel anchors, in long format.

    Parameters
    ----------
    index_a : ndarray of shape (n_items, d_a)
        The corpus embedded by the index's model A.
    corpus_b : ndarray of shape (n_items, d_b)
        The corpus re-embedded by model B (the reference, and the anchors' B side).
    queries_b : ndarray of shape (n_queries, d_b)
        Query ``i`` (for item ``i``) embedded by B, ``n_queries <= n_items``.
    anchor_counts : sequence of int
        Numbers of parallel anchors, drawn uniformly among the items that have no
        query (rows ``n_queries`` and after), or among all items when every item has
        one. The affine translation is fitted only with more anchors than B has
        features.
    repeats : int, default=1
        Draws of the anchors per count.
    random_state : int, default=0
    show_progress : bool or None, default=None

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``method``, ``n_anchors``, ``repeat``, ``measure``, ``mapped``,
        ``re-embedded``, ``fraction``. The unmapped mixing (only where the widths
        match) has ``n_anchors`` 0.
    """
    rows = []
    n_items, n_queries = index_a.shape[0], queries_b.shape[0]
    # Held-out queries: anchors come from the items nobody asks for.
    pool = np.arange(n_queries if n_queries < n_items else 0, n_items)
    if max(anchor_counts, default=0) > len(pool):
        raise ValueError(
            f"{max(anchor_counts)} anchors asked for, from a pool of {len(pool)} "
            "items without a query."
        )

    def add(method, n_anchors, repeat, scores):
        for measure, values in scores.to_frame().iterrows():
            rows.append((method, n_anchors, repeat, measure, *values))

    if index_a.shape[1] == queries_b.shape[1]:
        add(UNMAPPED, 0, 0, migration_scores(queries_b, index_a, queries_b, corpus_b))
    grid = [(count, repeat) for count in anchor_counts for repeat in range(repeats)]
    for count, repeat in progress(
        grid, description="anchor counts", enabled=show_progress, unit="fit"
    ):
        rng = np.random.RandomState(random_state + repeat)
        anchors = rng.choice(pool, count, replace=False)
        for method in METHODS[:2]:
            if method.startswith("affine") and count <= corpus_b.shape[1]:
                continue  # fewer anchors than features: no unique affine map
            translator = LatentTranslator(method.split()[0]).fit(
                corpus_b[anchors], index_a[anchors]
            )
            mapped = translator.transform(queries_b)
            add(
                method,
                count,
                repeat,
                migration_scores(mapped, index_a, queries_b, corpus_b),
            )
        relative_a = RelativeTransformer(
            n_anchors=None, anchor_selection=list(anchors)
        ).fit(index_a)
        relative_b = relative_a.reanchor(corpus_b[anchors])
        add(
            METHODS[2],
            count,
            repeat,
            migration_scores(
                relative_b.transform(queries_b),
                relative_a.transform(index_a),
                queries_b,
                corpus_b,
            ),
        )
    return pd.DataFrame(
        rows,
        columns=[
            "method",
            "n_anchors",
            "repeat",
            "measure",
            "mapped",
            "re-embedded",
            "fraction",
        ],
    )


def _summary(frame):
    """Mean and std over repeats of each method, anchor count and measure."""
    keys = ["pair", "method", "n_anchors", "measure"]
    summary = (
        frame.groupby(keys, sort=False)[["mapped", "re-embedded", "fraction"]]
        .agg(["mean", "std"])
        .round(3)
    )
    summary.columns = [f"{name} {stat}" for name, stat in summary.columns]
    return summary.reset_index()


def _recall_table(frame):
    """Recall@10 as a fraction of re-embedding, ``mean ± std`` over anchor draws
    (the affine translation only where it was fitted)."""
    rows = frame[(frame["measure"] == "recall@10") & (frame["method"] != UNMAPPED)]
    stats = rows.groupby(["pair", "method", "n_anchors"], sort=False)["fraction"]
    cells = stats.agg(
        lambda values: f"{values.mean():.3f} ± {np.nan_to_num(values.std()):.3f}"
    )
    table = cells.unstack("n_anchors").reset_index()
    table.columns.name = None
    table.columns = [
        column if isinstance(column, str) else f"{column} anchors"
        for column in table.columns
    ]
    return table


def _draws(recall, pair, method, n_anchors):
    """Recall@10 fractions of the anchor draws of one mapping, ordered by draw."""
    rows = recall[
        (recall["pair"] == pair)
        & (recall["method"] == method)
        & (recall["n_anchors"] == n_anchors)
    ]
    return rows.sort_values("repeat")["fraction"].to_numpy()


def _findings(frame, n_items):
    """The experiment's claims, from its long-format results (a pure function).

    Parameters
    ----------
    frame : pandas.DataFrame
        What :func:`migration_curve` returns, with a ``pair`` column.
    n_items : int
        Items in the index (chance Recall@10 is ``10 / n_items``).

    Returns
    -------
    findings : list of Finding
        The target (95 % of re-embedding with at most 1,000 anchors, every draw); per
        pair, relative projection ahead at the fewest anchors and the orthogonal
        translation ahead at the most (by :data:`BETTER_BY`, in every draw); per pair
        of equal widths, unmapped queries at chance.
    """
    recall = frame[frame["measure"] == "recall@10"]
    mapped = recall[(recall["method"] != UNMAPPED) & (recall["n_anchors"] > 0)]
    within = mapped[mapped["n_anchors"] <= TARGET_ANCHORS]
    means = within.groupby(["pair", "method", "n_anchors"], sort=False)["fraction"]
    pair, method, count = means.mean().idxmax()
    findings = [
        exceeds(
            f"With at most {TARGET_ANCHORS:,} parallel anchors, mapped queries reach "
            f"{TARGET_FRACTION:.0%} of re-embedding Recall@10 on at least one pair "
            f"(the best mean: {pair}, {method}, {count} anchors)",
            _draws(recall, pair, method, count),
            TARGET_FRACTION,
            names=("mapped / re-embedded", "target"),
        )
    ]
    counts = sorted(set(mapped["n_anchors"]))
    few, many = counts[0], counts[-1]
    translation, relative = METHODS[0], METHODS[2]
    wording = {
        relative: "relative projection",
        translation: "the orthogonal translation",
    }
    # Relative projection should lead at the fewest anchors, translation at the most.
    contests = [(few, relative, translation), (many, translation, relative)]
    for pair in dict.fromkeys(mapped["pair"]):
        for count, ahead, behind in contests:
            findings.append(
                exceeds(
                    f"{pair}: with {count} anchors, {wording[ahead]} retrieves better "
                    f"than {wording[behind]} (Recall@10, fraction of re-embedding)",
                    _draws(recall, pair, ahead, count),
                    _draws(recall, pair, behind, count),
                    margin=BETTER_BY,
                    names=(ahead, behind),
                )
            )
    # Mixing raw vectors of two models: at chance where the models are unrelated.
    chance = 10 / n_items
    mixed = recall[recall["method"] == UNMAPPED]
    for _, row in mixed.iterrows():
        findings.append(
            falls_to_chance(
                f"{row['pair']}: B's raw queries in A's index (no mapping) retrieve "
                "at chance (Recall@10)",
                [row["mapped"]],
                chance,
                margin=CHANCE_MARGIN,
            )
        )
    return findings


def _figure(frame, n_items):
    plt = pyplot()
    rows = frame[frame["measure"] == "recall@10"]
    pairs = list(dict.fromkeys(rows["pair"]))
    figure, axes = plt.subplots(
        1, len(pairs), figsize=(5.2 * len(pairs), 4.2), constrained_layout=True
    )
    for ax, pair in zip(np.atleast_1d(axes), pairs, strict=True):
        here = rows[rows["pair"] == pair]
        for method in METHODS:
            stats = (
                here[here["method"] == method]
                .groupby("n_anchors")["fraction"]
                .agg(["mean", "std"])
            )
            ax.errorbar(
                stats.index,
                stats["mean"],
                yerr=stats["std"].fillna(0),
                marker="o",
                capsize=3,
                label=method,
            )
        mixed = here[here["method"] == UNMAPPED]
        if len(mixed):
            ax.axhline(mixed["fraction"].iloc[0], color="grey", ls="--", label=UNMAPPED)
        ax.axhline(TARGET_FRACTION, color="black", lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("parallel anchors")
        ax.set_ylabel("Recall@10, fraction of re-embedding")
        ax.set_title(f"index {pair.split(' → ')[0]}, queries {pair.split(' → ')[1]}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    figure.suptitle(f"Index migration on {n_items:,} fortunes")
    return figure


# -- the spec: settings, steps and report text ------------------------------------------


@dataclass(frozen=True)
class MigrationSettings:
    """Settings of the migration experiment: ``n_items`` quotes in the index (of the
    3,231 that qualify), the queries of the first ``n_queries`` asked (the others
    are the anchor pool), ``anchor_counts`` parallel anchors, ``repeats`` anchor
    draws each."""

    n_items: int
    n_queries: int
    anchor_counts: tuple
    repeats: int


@dataclass
class MigrationMeasurements:
    """The long-format curve of every pair, and the sizes it was measured at."""

    frame: pd.DataFrame
    n_items: int
    n_queries: int
    anchor_counts: list


DESCRIPTION = """\
{n_items:,} English fortunes (Debian `fortunes`, at most 400 characters, at least 8 \
words, shuffled) are the corpus; each one's query is its first half. Index embedded \
by model A, queries by model B (e5: `query: ` prefix for queries, `passage: ` for the \
corpus). The queries of {n_queries:,} items are asked; the other {n_pool:,} items are \
the anchor pool, so no query's own item is an anchor; every item is in the index. \
Parallel anchors are pool items drawn at random ({anchor_counts}; {repeats} draws \
each) and embedded by both models. Mappings: LatentTranslator (orthogonal; affine, \
only with more anchors than features) from B's anchors to A's, applied to B's \
queries; relative (centred cosines to the anchors) of A's index and of B's queries. \
Scores: Recall@1, Recall@10, MRR@10 of each query finding its own quote among all, as \
a fraction of re-embedding the corpus with B. Chance Recall@10: {chance:.4f}."""


def _load(run):
    """The first ``n_items`` shuffled quotes (so that the held-out items and the
    anchor pool both span every topic), and the first ``n_queries`` queries."""
    from ..datasets import load_fortunes

    texts, _ = load_fortunes(
        n_per_topic=100, max_chars=400, random_state=run.random_state, return_X_y=True
    )
    documents, queries = half_queries(texts)
    order = np.random.RandomState(run.random_state).permutation(len(documents))
    order = order[: min(run.settings.n_items, len(documents))]
    documents = [documents[i] for i in order]
    queries = [queries[i] for i in order[: run.settings.n_queries]]
    return documents, queries


def _encode(data, run):
    """The corpus embedded by each model, and the queries by the query models (e5:
    ``query:`` prefix for queries, ``passage:`` for quotes). The index model's
    queries are never used: not embedded."""
    from ..encoders import E5SmallEncoder, MiniLML3Encoder, MiniLML6Encoder

    documents, queries = data
    show = run.show_progress
    corpus, asked = {}, {}
    corpus[L6] = MiniLML6Encoder(device="cpu", verbose=show).fit_transform(documents)
    encoder = MiniLML3Encoder(device="cpu", verbose=show)
    corpus[L3] = encoder.fit_transform(documents)
    asked[L3] = encoder.transform(queries)
    corpus[E5] = E5SmallEncoder(mode="passage", verbose=show).fit_transform(documents)
    asked[E5] = E5SmallEncoder(mode="query", verbose=show).fit_transform(queries)
    return corpus, asked, len(documents)


def _measure(encoded, run):
    corpus, asked, n_items = encoded
    settings = run.settings
    n_queries = min(settings.n_queries, n_items - 1)
    anchor_counts = [c for c in settings.anchor_counts if c <= n_items - n_queries]
    frames = []
    for a, b in PAIRS:
        frame = migration_curve(
            corpus[a],
            corpus[b],
            asked[b],
            anchor_counts=anchor_counts,
            repeats=settings.repeats,
            random_state=run.random_state,
            show_progress=run.show_progress,
        )
        frame.insert(0, "pair", f"{a} → {b}")
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    return MigrationMeasurements(frame, n_items, n_queries, anchor_counts)


def _claims(measured):
    return _findings(measured.frame, measured.n_items)


def _tables(measured):
    return {
        "results": measured.frame,
        "recall at 10, fraction of re-embedding": _recall_table(measured.frame),
        "summary": _summary(measured.frame),
    }


def _figures(measured):
    return {"curve": _figure(measured.frame, measured.n_items)}


def _describe(measured, run):
    return DESCRIPTION.format(
        n_items=measured.n_items,
        n_queries=measured.n_queries,
        n_pool=measured.n_items - measured.n_queries,
        anchor_counts=", ".join(map(str, measured.anchor_counts)),
        repeats=run.settings.repeats,
        chance=10 / measured.n_items,
    )


#: Index migration between MiniLM-L6 and MiniLM-L3, and MiniLM-L6 and e5. The full
#: run is sized to take about 3 minutes on 2 cores, most of it e5 embedding the
#: corpus.
SPEC = ExperimentSpec(
    name="migration",
    title="Index migration: an index of one model, queries of another",
    quick=MigrationSettings(
        n_items=200, n_queries=80, anchor_counts=(20, 50, 100), repeats=3
    ),
    full=MigrationSettings(
        n_items=1600,
        n_queries=500,
        anchor_counts=(50, 100, 200, 500, 1000),
        repeats=3,
    ),
    load=_load,
    encode=_encode,
    measure=_measure,
    claims=_claims,
    describe=_describe,
    tables=_tables,
    figures=_figures,
)
