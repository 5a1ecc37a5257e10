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
right answer. Scores are :func:`~skrelrep.metrics.migration_scores`: Recall@1,
Recall@10 and MRR@10 of the mapped queries, as a fraction of re-embedding.
"""

import numpy as np
import pandas as pd

from .. import LatentTranslator, RelativeTransformer
from ..metrics import migration_scores
from ..utils._matplotlib import pyplot
from ..utils._progress import progress
from ._result import MISSING, ExperimentResult, Finding

__all__ = ["half_queries", "migration_curve", "run_migration"]

L6, L3, E5 = "MiniLM-L6", "MiniLM-L3", "e5"
PAIRS = [(L6, L3), (L6, E5)]
METHODS = ["orthogonal translation", "affine translation", "relative (centred)"]
UNMAPPED = "no mapping (mixed)"
# The target: 95 % of re-embedding Recall@10 with at most 1,000 anchors.
TARGET_FRACTION, TARGET_ANCHORS = 0.95, 1000
# Corpus size (quotes), anchor counts and anchor draws of the two runs.
FULL = {"n_items": None, "anchor_counts": (50, 100, 200, 500, 1000, 2000), "repeats": 3}
QUICK = {"n_items": 200, "anchor_counts": (20, 50, 100), "repeats": 1}


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
    queries_b : ndarray of shape (n_items, d_b)
        Query ``i`` (for item ``i``) embedded by B.
    anchor_counts : sequence of int
        Numbers of parallel anchors, drawn uniformly among the corpus items. The
        affine translation is fitted only with more anchors than B has features.
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
    n_items = index_a.shape[0]

    def add(method, n_anchors, repeat, scores):
        for measure, values in scores.iterrows():
            rows.append((method, n_anchors, repeat, measure, *values))

    if index_a.shape[1] == queries_b.shape[1]:
        add(UNMAPPED, 0, 0, migration_scores(queries_b, index_a, queries_b, corpus_b))
    grid = [(count, repeat) for count in anchor_counts for repeat in range(repeats)]
    for count, repeat in progress(
        grid, description="anchor counts", enabled=show_progress, unit="fit"
    ):
        rng = np.random.RandomState(random_state + repeat)
        anchors = rng.choice(n_items, count, replace=False)
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


def _embed(n_items, random_state, show_progress):
    """The corpus and queries, embedded by each model (e5: passages and queries)."""
    from ..datasets import load_fortunes
    from ..encoders import E5SmallEncoder, MiniLML3Encoder, MiniLML6Encoder

    texts, _ = load_fortunes(
        n_per_topic=100 if n_items is None else 10,
        max_chars=400,
        random_state=random_state,
        return_X_y=True,
    )
    documents, queries = half_queries(texts)
    if n_items is not None:
        documents, queries = documents[:n_items], queries[:n_items]
    corpus, asked = {}, {}
    for name, encoder in [
        (L6, MiniLML6Encoder(device="cpu", verbose=show_progress)),
        (L3, MiniLML3Encoder(device="cpu", verbose=show_progress)),
    ]:
        corpus[name] = encoder.fit_transform(documents)
        asked[name] = encoder.transform(queries)
    corpus[E5] = E5SmallEncoder(mode="passage", verbose=show_progress).fit_transform(
        documents
    )
    asked[E5] = E5SmallEncoder(mode="query", verbose=show_progress).fit_transform(
        queries
    )
    return corpus, asked, len(documents)


def _summary(frame):
    """Mean and std over repeats of each method, anchor count and measure."""
    keys = ["pair", "method", "n_anchors", "measure"]
    return (
        frame.groupby(keys, sort=False)[["mapped", "re-embedded", "fraction"]]
        .agg(["mean", "std"])
        .round(3)
        .reset_index()
    )


def _mean_fraction(frame, measure="recall@10"):
    rows = frame[frame["measure"] == measure]
    return rows.groupby(["pair", "method", "n_anchors"])["fraction"].agg(
        ["mean", "std"]
    )


def _findings(frame, n_items):
    fractions = _mean_fraction(frame)
    findings = []
    within = fractions.reset_index()
    within = within[(within["n_anchors"] > 0) & (within["n_anchors"] <= TARGET_ANCHORS)]
    best = within.loc[within["mean"].idxmax()]
    findings.append(
        Finding(
            f"With at most {TARGET_ANCHORS:,} parallel anchors, mapped queries reach "
            f"{TARGET_FRACTION:.0%} of re-embedding Recall@10 on at least one pair",
            bool(best["mean"] >= TARGET_FRACTION),
            f"best: {best['pair']}, {best['method']}, {int(best['n_anchors'])} "
            f"anchors: {best['mean']:.3f} of re-embedding; per pair, best: "
            + "; ".join(
                f"{pair} {group['mean'].max():.3f}"
                for pair, group in within.groupby("pair", sort=False)
            ),
        )
    )
    # More anchors help, beyond the spread of the draws.
    verdicts, evidence = [], []
    for (pair, method), group in fractions.groupby(level=[0, 1], sort=False):
        if method == UNMAPPED:
            continue
        group = group.droplevel([0, 1]).sort_index()
        low, high = group.iloc[0], group.iloc[-1]
        spread = max(np.nan_to_num(low["std"]), np.nan_to_num(high["std"]))
        verdicts.append(high["mean"] - low["mean"] > 2 * spread)
        evidence.append(
            f"{pair}, {method}: {low['mean']:.3f} at {group.index[0]} → "
            f"{high['mean']:.3f} at {group.index[-1]}"
        )
    findings.append(
        Finding(
            "More parallel anchors bring every mapping closer to re-embedding "
            "(Recall@10 fraction at the most anchors above that at the fewest, by more "
            "than twice the spread over anchor draws)",
            bool(all(verdicts)),
            "; ".join(evidence),
        )
    )
    # Mixing raw vectors of two models: near chance where the models are unrelated.
    chance = 10 / n_items
    mixed = frame[(frame["method"] == UNMAPPED) & (frame["measure"] == "recall@10")]
    for _, row in mixed.iterrows():
        findings.append(
            Finding(
                f"{row['pair']}: B's raw queries in A's index (no mapping) retrieve "
                "no better than 5 times chance",
                bool(row["mapped"] <= 5 * chance),
                f"Recall@10 {row['mapped']:.3f} (chance {chance:.3f}; re-embedding "
                f"{row['re-embedded']:.3f})",
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


def run_migration(*, quick=False, random_state=0, show_progress=None):
    """Index migration between MiniLM-L6 and MiniLM-L3, and MiniLM-L6 and e5.

    Full: about 2,000 quotes, 50 to 2,000 parallel anchors, 3 anchor draws. Quick:
    200 quotes, 20 to 100 anchors, one draw.
    """
    title = "Index migration: an index of one model, queries of another"
    run = QUICK if quick else FULL
    anchor_counts, repeats = run["anchor_counts"], run["repeats"]
    try:
        corpus, asked, n_items = _embed(run["n_items"], random_state, show_progress)
    except MISSING as exc:
        return ExperimentResult.skip("migration", title, exc)
    frames = []
    for a, b in PAIRS:
        counts = [count for count in anchor_counts if count < n_items]
        frame = migration_curve(
            corpus[a],
            corpus[b],
            asked[b],
            anchor_counts=counts,
            repeats=repeats,
            random_state=random_state,
            show_progress=show_progress,
        )
        frame.insert(0, "pair", f"{a} → {b}")
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    description = (
        f"{n_items:,} English fortunes (Debian `fortunes`, at most 400 characters, at "
        "least 8 words) are the corpus; each one's query is its first half. Index "
        "embedded by model A, queries by model B (e5: `query: ` prefix for queries, "
        "`passage: ` for the corpus). Parallel anchors are corpus items drawn at "
        f"random ({', '.join(map(str, anchor_counts))}; {repeats} draw(s) each) and "
        "embedded by both models. Mappings: LatentTranslator (orthogonal; affine, only "
        "with more anchors than features) from B's anchors to A's, applied to B's "
        "queries; relative (centred cosines to the "
        "anchors) of A's index and of B's queries. Scores: Recall@1, Recall@10, MRR@10 "
        "of each query finding its own quote among all, as a fraction of re-embedding "
        f"the corpus with B. Chance Recall@10: {10 / n_items:.4f}."
    )
    return ExperimentResult(
        name="migration",
        title=title,
        description=description,
        tables={"results": frame, "summary": _summary(frame)},
        figures={"migration_curve": _figure(frame, n_items)},
        findings=_findings(frame, n_items),
    )
