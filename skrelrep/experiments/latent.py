"""How similar are the latent spaces of independently trained models?

The paper's Figure 1 and Section 4: two networks trained with different seeds learn
latent spaces that differ by (roughly) an angle-preserving map. Their absolute codes
disagree (low cosine agreement between a sample's two codes, neighbourhoods partly
kept); their relative codes over the same anchor items agree.
"""

import warnings

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from .. import RelativeTransformer
from ..metrics import (
    ChanceAgreementWarning,
    cosine_agreement,
    jaccard_at_k,
    linear_cka,
    mean_reciprocal_rank,
)
from ..utils._matplotlib import pyplot
from ..utils._progress import progress
from ._claims import describe, exceeds, falls_to_chance, far_above_chance
from ._performance import (
    correlation_summary,
    performance_figure,
    performance_findings,
    similarity_predicts_performance,
)
from ._result import ExperimentResult
from ._stitching import train_encoder

__all__ = ["chance_mrr", "latent_similarity", "run_latent", "seed_findings"]


def latent_similarity(codes_a, codes_b, *, n_anchors=300, k=10, random_state=0):
    """Agreement of two encoders' codes of the same items, absolute and relative.

    Parameters
    ----------
    codes_a, codes_b : arrays of shape (n_items, d_a) and (n_items, d_b)
        Row ``i`` of both is item ``i``. Anchors are chosen among the rows.

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``space, metric, value`` for Jaccard@k, MRR, cosine agreement and
        linear CKA (MRR and cosine only where the widths match, always for relative).
    """
    relative_a = RelativeTransformer(
        n_anchors, center=True, random_state=random_state
    ).fit(codes_a)
    relative_b = relative_a.reanchor(codes_b[relative_a.anchor_indices_])
    spaces = {
        "absolute": (codes_a, codes_b),
        "relative": (relative_a.transform(codes_a), relative_b.transform(codes_b)),
    }
    rows = []
    for space, (A, B) in spaces.items():
        rows.append((space, f"jaccard@{k}", jaccard_at_k(A, B, k=k)))
        rows.append((space, "linear CKA", linear_cka(A, B)))
        if A.shape[1] == B.shape[1]:
            # The absolute codes' coordinates are unrelated: chance on purpose.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ChanceAgreementWarning)
                rows.append((space, "MRR", mean_reciprocal_rank(A, B)))
                rows.append((space, "cosine", cosine_agreement(A, B)))
    return pd.DataFrame(rows, columns=["space", "metric", "value"])


#: How far relative cosine agreement must exceed absolute, paired over seed pairs.
COSINE_MARGIN = 0.5
#: How far above chance relative MRR must be in every pair ("far more").
MRR_MARGIN = 0.5
#: How far above chance absolute MRR may be and still count as chance.
CHANCE_MARGIN = 0.05


def chance_mrr(n_items):
    """Mean reciprocal rank of a match ranked uniformly at random among ``n_items``.

    With ranks uniform over ``1..n``, the expected ``1 / rank`` is ``H_n / n``.
    """
    return float(np.mean(1.0 / np.arange(1, n_items + 1)))


def seed_findings(results, n_items):
    """The paper's claims on seed pairs, from the tidy results (a pure function).

    Parameters
    ----------
    results : pandas.DataFrame
        Columns ``pair, space, metric, value``: one row per seed pair, space and
        metric, as ``run_latent`` builds it.
    n_items : int
        Items each code's match is ranked among (the test images): chance MRR.

    Returns
    -------
    findings : list of Finding
        Relative cosine agreement above absolute by :data:`COSINE_MARGIN` (paired over
        seed pairs, in every pair); relative MRR above chance by :data:`MRR_MARGIN` in
        every pair; absolute MRR within :data:`CHANCE_MARGIN` of chance.
    """
    table = results.pivot_table(
        index="pair", columns=["space", "metric"], values="value"
    )
    chance = chance_mrr(n_items)
    return [
        exceeds(
            "Independently trained encoders' codes of an image agree far more "
            "in relative than in absolute space (mean cosine, paired over seed pairs)",
            table[("relative", "cosine")],
            table[("absolute", "cosine")],
            margin=COSINE_MARGIN,
            names=("relative", "absolute"),
        ),
        far_above_chance(
            "An image's relative code from one seed retrieves its relative code from "
            f"another seed among {n_items} images (MRR)",
            table[("relative", "MRR")],
            chance,
            margin=MRR_MARGIN,
        ),
        falls_to_chance(
            "Absolute codes of independently trained encoders do not match coordinate "
            "by coordinate (MRR)",
            table[("absolute", "MRR")],
            chance,
            margin=CHANCE_MARGIN,
        ),
    ]


def _mean_std(results):
    """Each metric and space, ``mean ± std`` over seed pairs."""
    cells = results.groupby(["metric", "space"], sort=False)["value"].agg(describe)
    summary = cells.unstack("space").reset_index()
    summary.columns.name = None
    return summary


def run_latent(*, quick=False, random_state=0, show_progress=None):
    """Similarity of seeds' latent spaces (digits), and similarity as a proxy for
    accuracy (Fashion-MNIST).

    Full: 4 seeds (6 pairs), 300 anchors; 26 models of varied quality. Quick: 3 seeds
    (3 pairs), 100 anchors; 9 models.
    """
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=random_state
    )
    seeds = (0, 1, 2) if quick else (0, 1, 2, 3)
    n_anchors = 100 if quick else 300
    codes = {}
    for seed in progress(seeds, description="encoders", enabled=show_progress):
        codes[seed] = train_encoder(X_train, y_train, seed).transform(X_test)
    frames = []
    for a, b in [(a, b) for i, a in enumerate(seeds) for b in seeds[i + 1 :]]:
        frame = latent_similarity(
            codes[a], codes[b], n_anchors=n_anchors, random_state=random_state
        )
        frames.append(frame.assign(pair=f"seed {a} vs seed {b}"))
    results = pd.concat(frames, ignore_index=True)[["pair", "space", "metric", "value"]]
    findings = seed_findings(results, len(X_test))
    data, models, correlations = similarity_predicts_performance(
        quick=quick, random_state=random_state, show_progress=show_progress
    )
    n_models = models["model"].nunique()
    findings += performance_findings(correlations, n_models=n_models)
    per_model = models.groupby("model").mean(numeric_only=True).drop(columns="draw")
    per_model = per_model.round(3).astype({"images": int, "epochs": int, "width": int})
    return ExperimentResult(
        name="latent",
        title="Latent similarity across seeds",
        description=(
            f"MLP encoders (seeds {', '.join(map(str, seeds))}) trained on digits; their "
            f"codes of the same {len(X_test)} held-out images compared pairwise: "
            "Jaccard@10 of neighbourhoods, mean reciprocal rank of an image's own code "
            f"(chance {chance_mrr(len(X_test)):.4f}), mean cosine between an image's "
            "two codes, and linear CKA, for absolute codes and for relative codes over "
            f"the same {n_anchors} anchors; mean ± std over the seed pairs. The figure "
            "draws two seeds' codes in the principal axes of seed 0's codes: seed 1's "
            "absolute codes are scrambled there (the same coordinates mean something "
            "else), its relative codes fall where seed 0's do.\n\n"
            f"Similarity as a proxy for accuracy: {n_models} one-hidden-layer MLPs on "
            f"{data}, trained on {', '.join(map(str, sorted(set(models['images']))))} "
            f"images for {', '.join(map(str, sorted(set(models['epochs']))))} epochs "
            f"(widths {', '.join(map(str, sorted(set(models['width']))))}; budgets "
            "above 20,000 image-epochs skipped), and a reference trained longest on "
            "the most images (test accuracy "
            f"{models.attrs['reference accuracy']:.3f}). For each model: test accuracy "
            "of its own output layer, and the agreement of its relative codes of the "
            "test images with the reference's, over the same anchor images (held out "
            "of training; 3 random draws), by mean cosine and MRR; linear CKA of the "
            "absolute codes is the baseline that needs no anchors. Spearman rank "
            "correlation with accuracy across the models, analytic p-value."
        ),
        tables={
            "results": results,
            "over seed pairs": _mean_std(results),
            "per model": (per_model.reset_index()),
            "correlation with accuracy": correlation_summary(correlations),
        },
        figures={
            "latent_pictures": _picture(
                codes[seeds[0]], codes[seeds[1]], y_test, random_state
            ),
            "latent_performance": performance_figure(models, data),
        },
        findings=findings,
    )


def _picture(codes_a, codes_b, y, random_state):
    """First two principal components of two seeds' codes, absolute and relative."""
    plt = pyplot()
    relative_a = RelativeTransformer(300, center=True, random_state=random_state).fit(
        codes_a
    )
    relative_b = relative_a.reanchor(codes_b[relative_a.anchor_indices_])
    # Both seeds are drawn in seed 0's principal axes: the same coordinates. Absolute
    # coordinates of seed 1 mean something else (a different rotation), relative ones
    # (similarity to anchor i) mean the same.
    spaces = {
        "absolute": (codes_a, codes_b),
        "relative": (relative_a.transform(codes_a), relative_b.transform(codes_b)),
    }
    figure, axes = plt.subplots(1, 4, figsize=(14, 3.6), constrained_layout=True)
    panels = iter(axes)
    for space, (first, second) in spaces.items():
        pca = PCA(2, random_state=random_state).fit(first)
        for seed, codes in [(0, first), (1, second)]:
            ax = next(panels)
            points = pca.transform(codes)
            ax.scatter(points[:, 0], points[:, 1], c=y, cmap="tab10", s=6)
            ax.set_title(f"seed {seed}, {space}")
            ax.set_xticks([])
            ax.set_yticks([])
    figure.suptitle(
        "Two seeds' latent spaces in the principal axes of seed 0, coloured by digit"
    )
    return figure
