"""
===========
Quick start
===========

:class:`~skrelrep.RelativeTransformer` turns embeddings into their *relative
representation*: the cosine similarity of each sample to a set of anchor samples. This
example shows what it computes, why the result survives a rotation of the latent
space, how it fits in a scikit-learn pipeline, and how two independently trained
models are stitched together with no training.
"""

# %%
# The relative representation
# ---------------------------
# Any array of embeddings will do; here, 16 principal components of the digits stand
# in for the latent codes of an encoder. ``fit`` picks 50 random rows as anchors,
# ``transform`` returns one column per anchor.
import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import ortho_group
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skrelrep import MLPEncoder, RelativeTransformer, StitchedPipeline, stitch

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.5, stratify=y, random_state=0
)
Z_train = PCA(n_components=16, random_state=0).fit_transform(X_train)

relative = RelativeTransformer(n_anchors=50, random_state=0)
R_train = relative.fit_transform(Z_train)
print("embeddings", Z_train.shape, "-> relative", R_train.shape)
print("anchors are rows", relative.anchor_indices_[:5], "...")
print("entry (0, 0) is cos(Z[0], Z[anchor 0]):", R_train[0, 0].round(4))
z, a = Z_train[0], Z_train[relative.anchor_indices_[0]]
print("computed by hand:", (z @ a / np.linalg.norm(z) / np.linalg.norm(a)).round(4))

# %%
# Invariance
# ----------
# Rotate, reflect and rescale the latent space with a random orthogonal matrix: the
# coordinates change completely, the relative representation does not (the same
# ``random_state`` picks the same anchor rows).
Q = ortho_group.rvs(16, random_state=0)
Z_rotated = 5.0 * Z_train @ Q
R_rotated = RelativeTransformer(n_anchors=50, random_state=0).fit_transform(Z_rotated)
print("largest change in the embeddings:", np.abs(Z_rotated - Z_train).max().round(2))
print(
    f"largest change in the relative representation: {np.abs(R_rotated - R_train).max():.1e}"
)

fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
axes[0].scatter(Z_train[:, 0], Z_rotated[:, 0], s=4)
axes[0].set(
    title="absolute: first coordinate",
    xlabel="original space",
    ylabel="rotated space",
)
axes[1].scatter(R_train[:, :5].ravel(), R_rotated[:, :5].ravel(), s=4)
axes[1].set(
    title="relative: cosine to the first 5 anchors",
    xlabel="original space",
    ylabel="rotated space",
)
plt.show()

# %%
# In a pipeline
# -------------
# ``RelativeTransformer`` is an ordinary transformer: it goes between an encoder and a
# model, and its outputs have feature names.
pipeline = make_pipeline(
    PCA(n_components=16, random_state=0),
    RelativeTransformer(n_anchors=50, center=True, random_state=0),
    LogisticRegression(max_iter=1000),
)
pipeline.fit(X_train, y_train)
print(f"test accuracy: {pipeline.score(X_test, y_test):.3f}")
print(pipeline[:-1].get_feature_names_out()[:3])

# %%
# Stitching two trainings
# -----------------------
# Two small networks (:class:`~skrelrep.MLPEncoder`) trained with different seeds
# learn different latent spaces. Each gets a decoder on its relative codes, in a
# :class:`~skrelrep.StitchedPipeline`. :func:`~skrelrep.stitch` then runs network B's
# encoder with network A's decoder, with no training: the anchors the decoder knows
# are re-embedded by network B.
models = {
    seed: StitchedPipeline(
        MLPEncoder(hidden_layer_sizes=(32,), tol=1e-2, random_state=seed),
        RelativeTransformer(n_anchors=100, center=True, random_state=0),
        LogisticRegression(max_iter=1000),
    ).fit(X_train, y_train)
    for seed in (0, 1)
}
stitched = stitch(models[1], models[0])  # encoder of seed 1, decoder of seed 0
for name, model in [
    ("seed 0", models[0]),
    ("seed 1", models[1]),
    ("seed 1 -> seed 0", stitched),
]:
    print(f"{name:>17}: {model.score(X_test, y_test):.3f}")

# %%
# The same swap on absolute codes (``relative="passthrough"``) falls to near chance:
absolute = {
    seed: StitchedPipeline(
        MLPEncoder(hidden_layer_sizes=(32,), tol=1e-2, random_state=seed),
        "passthrough",
        LogisticRegression(max_iter=1000),
    ).fit(X_train, y_train)
    for seed in (0, 1)
}
print(
    "absolute, seed 1 -> seed 0: "
    f"{stitch(absolute[1], absolute[0], via='absolute').score(X_test, y_test):.3f}"
)

# %%
# Next: :ref:`sphx_glr_auto_examples_plot_latent_spaces.py` pictures the two latent
# spaces, and the :ref:`User Guide <relative_transformer>` explains the method.
