"""How similar are the latent spaces of independently trained models?

The paper's Figure 1 and Section 4: two networks trained with different seeds learn
latent spaces that differ by (roughly) an angle-preserving map. Their absolute codes
disagree (low cosine agreement between a sample's two codes, neighbourhoods partly
kept); their relative codes over the same anchor items agree.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from .. import RelativeTransformer
from ..metrics import (
    ChanceAgreementWarning,
    cosine_agreement,
    linear_cka,
    mean_reciprocal_rank,
    neighbourhood_jaccard,
)
from ..utils._matplotlib import pyplot
from ._claims import describe, exceeds, falls_to_chance, far_above_chance
from ._performance import (
    PerformanceSettings,
    correlation_summary,
    digits_data,
    fashion_data,
    measure_models,
    performance_figure,
    performance_findings,
    train_models,
)
from ._spec import ExperimentSpec
from ._stitching import train_seed_encoders

__all__ = [
    "SPEC",
    "LatentSettings",
    "chance_mrr",
    "latent_similarity",
    "seed_findings",
]


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
        rows.append((space, f"jaccard@{k}", neighbourhood_jaccard(A, B, k=k)))
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
        metric, as the latent experiment measures it.
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


def _picture(codes_a, codes_b, y, random_state):
    """First two principal components of two seeds' codes, absolute and relative."""
    plt = pyplot()
    relative_a = RelativeTransformer(
        PICTURE_ANCHORS, center=True, random_state=random_state
    ).fit(codes_a)
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


# -- the spec: settings, steps and report text ------------------------------------------

#: Anchors of the figure's relative codes.
PICTURE_ANCHORS = 300


@dataclass(frozen=True)
class LatentSettings:
    """Settings of the latent experiment: the digits encoders' ``seeds`` (every pair
    compared) over ``n_anchors`` anchors, and the models of varied quality."""

    seeds: tuple
    n_anchors: int
    performance: PerformanceSettings


@dataclass
class LatentMeasurements:
    """The seed pairs' agreement and the models' accuracy and similarity."""

    results: pd.DataFrame
    n_items: int
    codes: dict
    y_test: np.ndarray
    data: str
    models: pd.DataFrame
    correlations: pd.DataFrame
    random_state: int


DESCRIPTION = """\
MLP encoders (seeds {seeds}) trained on digits; their codes of the same {n_items} \
held-out images compared pairwise: Jaccard@10 of neighbourhoods, mean reciprocal rank \
of an image's own code (chance {chance:.4f}), mean cosine between an image's two \
codes, and linear CKA, for absolute codes and for relative codes over the same \
{n_anchors} anchors; mean ± std over the seed pairs. The figure draws two seeds' codes \
in the principal axes of seed 0's codes: seed 1's absolute codes are scrambled there \
(the same coordinates mean something else), its relative codes fall where seed 0's \
do.

Similarity as a proxy for accuracy: {n_models} one-hidden-layer MLPs on {data}, \
trained on {images} images for {epochs} epochs (widths {widths}; budgets above \
{max_budget:,} image-epochs skipped), and a reference trained longest on the most \
images (test accuracy {reference:.3f}). For each model: test accuracy of its own \
output layer, and the agreement of its relative codes of the test images with the \
reference's, over the same anchor images (held out of training; {draws} random \
draws), by mean cosine and MRR; linear CKA of the absolute codes is the baseline that \
needs no anchors. Spearman rank correlation with accuracy across the models, analytic \
p-value."""


def _load(run):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    settings = run.settings.performance
    models_data = run.optional(
        "Fashion-MNIST",
        fashion_data,
        settings,
        run.random_state,
        instead="digits used instead for the models of varied quality",
    )
    if models_data is None:
        models_data = digits_data(settings, run.random_state)
    return X / 16.0, y, models_data


def _encode(data, run):
    X, y, models_data = data
    trained = train_seed_encoders(
        X,
        y,
        seeds=run.settings.seeds,
        random_state=run.random_state,
        show_progress=run.show_progress,
    )
    codes = {
        seed: encoder.transform(trained.X_test)
        for seed, encoder in trained.encoders.items()
    }
    models = train_models(
        models_data,
        run.settings.performance,
        random_state=run.random_state,
        show_progress=run.show_progress,
    )
    return codes, trained.y_test, models


def _measure(encoded, run):
    codes, y_test, trained = encoded
    seeds = list(codes)
    frames = []
    for a, b in [(a, b) for i, a in enumerate(seeds) for b in seeds[i + 1 :]]:
        frame = latent_similarity(
            codes[a],
            codes[b],
            n_anchors=run.settings.n_anchors,
            random_state=run.random_state,
        )
        frames.append(frame.assign(pair=f"seed {a} vs seed {b}"))
    results = pd.concat(frames, ignore_index=True)[["pair", "space", "metric", "value"]]
    models, correlations = measure_models(trained)
    return LatentMeasurements(
        results=results,
        n_items=len(y_test),
        codes=codes,
        y_test=y_test,
        data=trained.data.name,
        models=models,
        correlations=correlations,
        random_state=run.random_state,
    )


def _claims(measured):
    return seed_findings(measured.results, measured.n_items) + performance_findings(
        measured.correlations, n_models=measured.models["model"].nunique()
    )


def _tables(measured):
    models = measured.models
    per_model = models.groupby("model").mean(numeric_only=True).drop(columns="draw")
    per_model = per_model.round(3).astype({"images": int, "epochs": int, "width": int})
    return {
        "results": measured.results,
        "over seed pairs": _mean_std(measured.results),
        "per model": per_model.reset_index(),
        "correlation with accuracy": correlation_summary(measured.correlations),
    }


def _figures(measured):
    first, second = list(measured.codes)[:2]
    return {
        "pictures": _picture(
            measured.codes[first],
            measured.codes[second],
            measured.y_test,
            measured.random_state,
        ),
        "performance": performance_figure(measured.models, measured.data),
    }


def _describe(measured, run):
    models = measured.models

    def values(column):
        return ", ".join(map(str, sorted(set(models[column]))))

    return DESCRIPTION.format(
        seeds=", ".join(map(str, run.settings.seeds)),
        n_items=measured.n_items,
        chance=chance_mrr(measured.n_items),
        n_anchors=run.settings.n_anchors,
        n_models=models["model"].nunique(),
        data=measured.data,
        images=values("images"),
        epochs=values("epochs"),
        widths=values("width"),
        max_budget=run.settings.performance.max_budget,
        reference=models.attrs["reference accuracy"],
        draws=run.settings.performance.draws,
    )


#: Similarity of seeds' latent spaces (digits), and similarity as a proxy for
#: accuracy (Fashion-MNIST).
SPEC = ExperimentSpec(
    name="latent",
    title="Latent similarity across seeds",
    quick=LatentSettings(
        seeds=(0, 1, 2),
        n_anchors=100,
        performance=PerformanceSettings(
            sizes=(100, 400, 1600),
            epochs=(1, 3, 10),
            widths=(32,),
            max_budget=20_000,
            reference_epochs=10,
            n_test=500,
            n_anchors=100,
            draws=3,
            digits_sizes=(30, 100, 300),
        ),
    ),
    full=LatentSettings(
        seeds=(0, 1, 2, 3),
        n_anchors=300,
        performance=PerformanceSettings(
            sizes=(100, 400, 1600, 6400),
            epochs=(1, 3, 10, 30),
            widths=(32, 128),
            max_budget=20_000,
            reference_epochs=20,
            n_test=1000,
            n_anchors=300,
            draws=3,
            digits_sizes=(30, 100, 300, 1000),
        ),
    ),
    load=_load,
    encode=_encode,
    measure=_measure,
    claims=_claims,
    describe=_describe,
    tables=_tables,
    figures=_figures,
)
