"""How similar are the latent spaces of independently trained models?

The paper's Figure 1 and Section 4: two networks trained with different seeds learn
latent spaces that differ by (roughly) an angle-preserving map. Their absolute codes
disagree (low cosine agreement between a sample's two codes, neighbourhoods partly
kept); their relative codes over the same anchor items agree.
"""

import warnings

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
from ._result import ExperimentResult, Finding
from ._stitching import train_encoder

__all__ = ["latent_similarity", "run_latent"]


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


def run_latent(*, quick=False, random_state=0, show_progress=None):
    """Similarity of two seeds' latent spaces (digits), absolute vs relative, and a picture."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=random_state
    )
    seeds = (0, 1) if quick else (0, 1, 2)
    codes = {}
    for seed in progress(seeds, description="encoders", enabled=show_progress):
        codes[seed] = train_encoder(X_train, y_train, seed).transform(X_test)
    frames = []
    for a, b in [(a, b) for i, a in enumerate(seeds) for b in seeds[i + 1 :]]:
        frame = latent_similarity(
            codes[a],
            codes[b],
            n_anchors=100 if quick else 300,
            random_state=random_state,
        )
        frames.append(frame.assign(pair=f"seed {a} vs seed {b}"))
    results = pd.concat(frames, ignore_index=True)[["pair", "space", "metric", "value"]]
    summary = results.pivot_table(
        index="metric", columns="space", values="value"
    ).reset_index()
    summary.columns.name = None
    means = summary.set_index("metric")
    findings = [
        Finding(
            f"independently trained encoders agree on {metric} far more in relative space",
            bool(
                means.loc[metric, "relative"] > means.loc[metric, "absolute"] + margin
            ),
            f"absolute {means.loc[metric, 'absolute']:.3f}, relative "
            f"{means.loc[metric, 'relative']:.3f}",
        )
        for metric, margin in [("cosine", 0.3), ("MRR", 0.3)]
    ]
    return ExperimentResult(
        name="latent",
        title="Latent similarity across seeds",
        description=(
            f"MLP encoders (seeds {', '.join(map(str, seeds))}) trained on digits; their "
            "codes of the same held-out images compared pairwise: Jaccard@10 of "
            "neighbourhoods, mean reciprocal rank of an image's own code, mean cosine "
            "between an image's two codes, and linear CKA, for absolute codes and for "
            "relative codes over the same anchors. The figure draws both seeds' codes in "
            "the principal axes of seed 0's codes: seed 1's absolute codes are "
            "scrambled there (the same coordinates mean something else), its relative "
            "codes fall where seed 0's do."
        ),
        tables={"results": results, "mean over pairs": summary},
        figures={
            "latent_pictures": _picture(
                codes[seeds[0]], codes[seeds[1]], y_test, random_state
            )
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
