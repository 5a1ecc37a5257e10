"""Does latent similarity to a good model predict a model's accuracy?

The paper trains many graph networks of varied quality and finds that the similarity
of a network's relative representation to that of a reference (the best) network
tracks its accuracy: a way to judge a model without labels, from its latent space
alone. The offline analogue here: one-hidden-layer MLPs on Fashion-MNIST (digits where
Fashion-MNIST is not installed) trained with varied budgets (training images, epochs,
width), a reference trained longest on the most images, and for each model its
accuracy and the agreement of its relative codes of held-out images with the
reference's, over the same anchor images. The check is a rank correlation across the
models. Linear CKA of the absolute codes, which needs no anchors, is the baseline.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.exceptions import ConvergenceWarning

from .. import MLPEncoder, RelativeTransformer
from ..metrics import (
    ChanceAgreementWarning,
    cosine_agreement,
    linear_cka,
    mean_reciprocal_rank,
)
from ..utils._matplotlib import pyplot
from ..utils._progress import progress
from ._claims import at_most, describe, far_above_chance

__all__ = [
    "PerformanceSettings",
    "digits_data",
    "fashion_data",
    "measure_models",
    "performance_findings",
    "train_models",
]

#: The measure whose rank correlation with accuracy is the claim, and the baseline.
MEASURE, BASELINE = "relative cosine", "absolute linear CKA"
#: A strong rank correlation: what "similarity predicts performance" needs to mean.
MIN_RHO = 0.7
#: The p-value below which the correlation counts as more than chance.
ALPHA = 0.05
#: The seed of the reference model.
REFERENCE_SEED = 1000


@dataclass(frozen=True)
class PerformanceSettings:
    """The models of varied quality: every size × epochs × width, skipping budgets
    above ``max_budget`` image-epochs; the reference gets the most images, the widest
    layer and ``reference_epochs`` epochs. ``digits_sizes`` replace ``sizes`` on
    digits (1,797 images); ``draws`` anchor draws of ``n_anchors`` anchor images."""

    sizes: tuple
    epochs: tuple
    widths: tuple
    max_budget: int
    reference_epochs: int
    n_test: int
    n_anchors: int
    draws: int
    digits_sizes: tuple


@dataclass
class PerformanceData:
    """Training pool (its last rows the anchor pool, never trained on) and test
    images of one data set, and the training sizes to use on it."""

    name: str
    sizes: tuple
    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


@dataclass
class TrainedModels:
    """The reference, the models ``(seed, images, epochs, width, model)``, the
    anchor pool and the anchor draws (indices into the pool)."""

    data: PerformanceData
    reference: MLPEncoder
    models: list
    pool: np.ndarray
    draws: list


def fashion_data(settings, random_state):
    """Fashion-MNIST: the largest training size plus the anchor pool, and test images."""
    from ..datasets import load_fashion_mnist

    n_train = max(settings.sizes)
    X, y = load_fashion_mnist(
        "train",
        n_samples=n_train + settings.n_anchors,
        random_state=random_state,
        return_X_y=True,
    )
    X_test, y_test = load_fashion_mnist(
        "test", n_samples=settings.n_test, random_state=random_state, return_X_y=True
    )
    return PerformanceData("Fashion-MNIST", settings.sizes, X, y, X_test, y_test)


def digits_data(settings, random_state):
    """scikit-learn's digits, a quarter held out for testing."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X, X_test, y, y_test = train_test_split(
        X / 16.0, y, test_size=0.25, stratify=y, random_state=random_state
    )
    return PerformanceData("digits", settings.digits_sizes, X, y, X_test, y_test)


def _train(X, y, size, epochs, width, seed):
    """An MLP on ``size`` random training images for a fixed number of epochs."""
    rows = np.random.RandomState(seed).choice(len(X), size, replace=False)
    encoder = MLPEncoder(
        hidden_layer_sizes=(width,),
        activation="tanh",
        max_iter=epochs,
        tol=0.0,  # the budget, not convergence, decides how long it trains
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        return encoder.fit(X[rows], y[rows])


def _relative(encoder, anchors, X):
    """Centred cosines of ``X``'s codes to the anchor images' codes."""
    projection = RelativeTransformer(
        n_anchors=None, anchor_selection=list(range(len(anchors))), center=True
    ).fit(encoder.transform(anchors))
    return projection.transform(encoder.transform(X))


def train_models(data, settings, *, random_state=0, show_progress=None):
    """Train the reference and the models of varied quality on ``data``.

    Parameters
    ----------
    data : PerformanceData
    settings : PerformanceSettings
    random_state : int, default=0
        Model ``i`` (from 1) is seeded ``random_state + i``, anchor draw ``d``
        ``random_state + d``; the reference has its own seed.
    show_progress : bool or None, default=None

    Returns
    -------
    trained : TrainedModels
    """
    X, y = data.X, data.y
    # The last rows are the anchor pool, never trained on.
    n_pool = min(settings.n_anchors, len(X) // 5)
    X_train, y_train, pool = X[:-n_pool], y[:-n_pool], X[-n_pool:]
    sizes = [min(size, len(X_train)) for size in data.sizes]
    grid = [
        (size, epochs, width)
        for size in sizes
        for epochs in settings.epochs
        for width in settings.widths
        if size * epochs <= settings.max_budget
    ]
    reference = _train(
        X_train,
        y_train,
        max(sizes),
        settings.reference_epochs,
        max(settings.widths),
        REFERENCE_SEED,
    )
    n_anchors = min(settings.n_anchors, n_pool)
    draws = [
        np.random.RandomState(random_state + draw).choice(n_pool, n_anchors, False)
        for draw in range(settings.draws)
    ]
    models = [
        (seed, *budget, _train(X_train, y_train, *budget, random_state + seed))
        for seed, budget in enumerate(
            progress(grid, description="models", enabled=show_progress), start=1
        )
    ]
    return TrainedModels(data, reference, models, pool, draws)


def measure_models(trained):
    """Each model's accuracy and similarity to the reference.

    Returns
    -------
    models : pandas.DataFrame
        One row per model and anchor draw: ``model, images, epochs, width, accuracy,
        draw`` and one column per measure (relative cosine, relative MRR, absolute
        linear CKA); ``attrs["reference accuracy"]``.
    correlations : pandas.DataFrame
        ``measure, draw, spearman rho, p-value`` (analytic, two-sided) across models.
    """
    X_test, y_test = trained.data.X_test, trained.data.y_test
    reference, pool = trained.reference, trained.pool
    targets = [_relative(reference, pool[anchors], X_test) for anchors in trained.draws]
    reference_codes = reference.transform(X_test)
    rows = []
    for seed, size, epochs, width, model in trained.models:
        accuracy = model.mlp_.score(X_test, y_test)
        cka = linear_cka(model.transform(X_test), reference_codes)
        for draw, (anchors, target) in enumerate(
            zip(trained.draws, targets, strict=True)
        ):
            codes = _relative(model, pool[anchors], X_test)
            # A barely trained model may agree with the reference only at chance.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ChanceAgreementWarning)
                cosine = cosine_agreement(codes, target)
                mrr = mean_reciprocal_rank(codes, target)
            rows.append((seed, size, epochs, width, accuracy, draw, cosine, mrr, cka))
    models = pd.DataFrame(
        rows,
        columns=[
            "model",
            "images",
            "epochs",
            "width",
            "accuracy",
            "draw",
            MEASURE,
            "relative MRR",
            BASELINE,
        ],
    )
    models.attrs["reference accuracy"] = reference.mlp_.score(X_test, y_test)
    return models, correlations(models)


def correlations(models):
    """Spearman correlation of each measure with accuracy across models, per draw."""
    rows = []
    for measure in (MEASURE, "relative MRR", BASELINE):
        for draw, group in models.groupby("draw"):
            rho, pvalue = spearmanr(group[measure], group["accuracy"])
            rows.append((measure, draw, float(rho), float(pvalue)))
    return pd.DataFrame(rows, columns=["measure", "draw", "spearman rho", "p-value"])


def correlation_summary(correlations):
    """Spearman rho (mean ± std over anchor draws) and the largest p-value."""
    summary = correlations.groupby("measure", sort=False).agg(
        rho=("spearman rho", describe), largest_p=("p-value", "max")
    )
    summary = summary.rename(
        columns={"rho": "spearman rho", "largest_p": "largest p-value"}
    )
    # p-values span many orders of magnitude: 3 decimals would show most as 0.000.
    summary["largest p-value"] = summary["largest p-value"].map("{:.2g}".format)
    return summary.reset_index()


def performance_findings(correlations, *, n_models):
    """The claim, from the correlation table (a pure function).

    Parameters
    ----------
    correlations : pandas.DataFrame
        What :func:`correlations` returns.
    n_models : int
        How many models were compared (stated in the claim).

    Returns
    -------
    findings : list of Finding
        Rank correlation of :data:`MEASURE` with accuracy at least :data:`MIN_RHO` in
        every anchor draw (chance: 0), and its p-value below :data:`ALPHA`.
    """
    rows = correlations[correlations["measure"] == MEASURE]
    claim = (
        f"Across {n_models} models of varied quality, the similarity of a model's "
        "relative codes to the reference's (mean cosine) predicts its accuracy"
    )
    return [
        far_above_chance(
            f"{claim}: Spearman rho", rows["spearman rho"], 0.0, margin=MIN_RHO
        ),
        at_most(
            f"{claim}: the correlation is more than chance",
            rows["p-value"],
            ALPHA,
            what="p-value",
        ),
    ]


def performance_figure(models, data):
    """Accuracy against similarity to the reference, relative and absolute."""
    plt = pyplot()
    means = models.groupby("model").mean(numeric_only=True)
    figure, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for ax, measure in zip(axes, (MEASURE, BASELINE), strict=True):
        points = ax.scatter(
            means[measure],
            means["accuracy"],
            c=np.log10(means["images"] * means["epochs"]),
            s=12 + means["width"] / 4,
            cmap="viridis",
        )
        rho = spearmanr(means[measure], means["accuracy"])[0]
        ax.set_xlabel(f"{measure} to the reference")
        ax.set_ylabel("test accuracy")
        ax.set_title(f"{measure}: Spearman rho {rho:.2f}")
        ax.grid(alpha=0.3)
    figure.colorbar(points, ax=axes, label="log10(training images x epochs)")
    figure.suptitle(
        f"{len(means)} MLPs on {data}: similarity to the reference model vs accuracy"
    )
    return figure
