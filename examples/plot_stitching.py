"""
=========================================================
Zero-shot model stitching with relative representations
=========================================================

Train the same small network several times, changing only its random seed, and every
run learns a latent space that serves the task equally well, yet the spaces are not
aligned: a decoder trained on one encoder's codes fails on another's. Expressing every
code by its cosine similarity to a fixed set of anchor samples (a *relative
representation*, Moschella et al., ICLR 2023) removes most of the difference, and a
decoder trained on one encoder then works on the others with no training at all.

This example trains four :class:`~skrelrep.MLPEncoder` networks on the digits, fits a
logistic regression on the absolute codes and on the relative codes of each, and
scores every encoder with every decoder: the *stitching matrix*. It then stitches
across domains (shuffled or downsampled pixels) with parallel anchors, and repeats the
experiment on Fashion-MNIST when the data set is installed.
"""

# %%
# Four encoders that differ only by their seed
# --------------------------------------------
# :class:`~sklearn.frozen.FrozenEstimator` keeps each trained encoder as it is when a
# pipeline is fitted, so the absolute and relative pipelines below share the same
# four encoders.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skrelrep import MLPEncoder, RelativeTransformer, StitchedPipeline, stitch
from skrelrep.datasets import DataNotInstalledError, load_fashion_mnist
from skrelrep.metrics import pivot_stitching_matrix, stitching_matrix

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.5, stratify=y, random_state=0
)
seeds = [0, 1, 2, 3]
encoders = [
    FrozenEstimator(
        MLPEncoder(hidden_layer_sizes=(32,), tol=1e-2, random_state=seed).fit(
            X_train, y_train
        )
    )
    for seed in seeds
]

# %%
# One decoder per encoder, on absolute and on relative codes
# ----------------------------------------------------------
# ``relative="passthrough"`` is the absolute baseline: the decoder reads the codes as
# they are. The relative projection uses 100 random anchors among the training images,
# centred on the anchor mean.
relative = RelativeTransformer(n_anchors=100, center=True, random_state=0)


def fit_pipelines(encoders, relative, X, y):
    return [
        StitchedPipeline(encoder, relative, LogisticRegression(max_iter=1000)).fit(X, y)
        for encoder in encoders
    ]


pipelines = {
    "absolute": fit_pipelines(encoders, "passthrough", X_train, y_train),
    "relative": fit_pipelines(encoders, relative, X_train, y_train),
}

# %%
# The stitching matrix
# --------------------
# Entry ``(i, j)`` is the test accuracy of encoder ``i`` followed by decoder ``j``.
# :func:`~skrelrep.stitch` joins them without training: with a relative projection,
# the anchors the decoder was trained against are re-embedded by the new encoder.
# :func:`~skrelrep.metrics.stitching_matrix` does it for every pair, and
# :func:`~skrelrep.metrics.pivot_stitching_matrix` lays the scores out as a matrix.
# The absolute matrix is the baseline, asked for with ``via="absolute"`` (without it,
# :func:`~skrelrep.stitch` warns that a decoder reads another encoder's codes).


def seed_matrix(pipelines, X, y, via):
    named = {
        f"seed {seed}": pipeline
        for seed, pipeline in zip(seeds, pipelines, strict=True)
    }
    return pivot_stitching_matrix(stitching_matrix(named, X=X, y=y, via=via))


def summary(matrix):
    values = matrix.to_numpy()
    off_diagonal = values[~np.eye(len(values), dtype=bool)]
    return (
        f"same encoder {np.diag(values).mean():.3f}, stitched {off_diagonal.mean():.3f}"
    )


matrices = {
    kind: seed_matrix(pipes, X_test, y_test, via=kind)
    for kind, pipes in pipelines.items()
}
for kind, matrix in matrices.items():
    print(f"{kind} ({summary(matrix)}):\n{matrix.round(3)}\n")

# %%
# Absolute stitching falls to chance (0.1 for ten classes); relative stitching keeps
# almost all of the accuracy of the matching encoder.


def plot_matrices(matrices, title):
    fig, axes = plt.subplots(1, len(matrices), figsize=(10, 4.2), layout="constrained")
    for ax, (kind, matrix) in zip(axes, matrices.items(), strict=True):
        image = ax.imshow(matrix.to_numpy(), vmin=0, vmax=1, cmap="viridis")
        for (i, j), value in np.ndenumerate(matrix.to_numpy()):
            color = "black" if value > 0.5 else "white"
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", color=color)
        ax.set(
            title=f"{kind}\n{summary(matrix)}",
            xticks=range(len(matrix)),
            xticklabels=matrix.columns,
            yticks=range(len(matrix)),
            yticklabels=matrix.index,
            xlabel="decoder",
            ylabel="encoder",
        )
    fig.colorbar(image, ax=axes, label="accuracy")
    fig.suptitle(title)


plot_matrices(matrices, "Digits: stitching every encoder with every decoder")

# %%
# Across domains, with parallel anchors
# -------------------------------------
# Two more encoders read other views of the same images: pixels in a fixed random
# order, and images downsampled to 4x4. The anchors must then be given in the new
# encoder's domain: ``anchor_inputs[i]`` is the same image as the decoder's anchor
# ``i`` (the training row ``anchor_indices_[i]``), seen the new way.
permutation = np.random.RandomState(0).permutation(64)
domains = {
    "shuffled pixels": lambda X: X[:, permutation],
    "4x4 pooled": lambda X: X.reshape(-1, 4, 2, 4, 2).mean(axis=(2, 4)).reshape(-1, 16),
}
decoder_from = pipelines["relative"][0]
rows = []
for seed, (name, view) in zip([4, 5], domains.items(), strict=True):
    encoder = MLPEncoder(hidden_layer_sizes=(32,), tol=1e-2, random_state=seed)
    own = StitchedPipeline(encoder, relative, LogisticRegression(max_iter=1000))
    own.fit(view(X_train), y_train)
    stitched = stitch(
        own, decoder_from, anchor_inputs=view(X_train[decoder_from.anchor_indices_])
    )
    rows.append(
        {
            "domain": name,
            "own decoder": own.score(view(X_test), y_test),
            "stitched to the seed 0 decoder": stitched.score(view(X_test), y_test),
        }
    )
print(pd.DataFrame(rows).set_index("domain").round(3))

# %%
# Shuffling the pixels loses nothing and stitching keeps the accuracy; pooling loses
# detail, so the new encoder's space agrees less with the original one.
#
# Fashion-MNIST
# -------------
# The same experiment on a harder data set, when the Debian package
# ``dataset-fashion-mnist`` is installed (4,000 images keep it fast).
try:
    images, labels = load_fashion_mnist(n_samples=4000, return_X_y=True)
except DataNotInstalledError as error:
    print(f"Fashion-MNIST skipped: {error}")
else:
    F_train, F_test, f_train, f_test = train_test_split(
        images, labels, test_size=1000, stratify=labels, random_state=0
    )
    fashion_encoders = [
        FrozenEstimator(
            MLPEncoder(hidden_layer_sizes=(64,), tol=1e-2, random_state=seed).fit(
                F_train, f_train
            )
        )
        for seed in seeds
    ]
    fashion = {
        kind: seed_matrix(
            fit_pipelines(fashion_encoders, rel, F_train, f_train),
            F_test,
            f_test,
            via=kind,
        )
        for kind, rel in [("absolute", "passthrough"), ("relative", relative)]
    }
    for kind, matrix in fashion.items():
        print(f"Fashion-MNIST, {kind} ({summary(matrix)}):\n{matrix.round(3)}\n")
    plot_matrices(fashion, "Fashion-MNIST: stitching every encoder with every decoder")

plt.show()
