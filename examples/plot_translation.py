"""
===================================================
Stitching by translation versus relative stitching
===================================================

Two networks trained with different seeds learn latent spaces that serve the task
equally well but are not aligned, so a decoder trained on one encoder's codes fails on
the other's. There are two ways to stitch them without training, both using a few
*parallel anchors* (the same inputs, embedded by both encoders):

- **relative stitching** (Moschella et al., ICLR 2023): the decoder is trained on
  cosine similarities to the anchors, which the other encoder can compute too
  (:class:`~skrelrep.RelativeTransformer`, :func:`~skrelrep.stitch`);
- **translation** (Maiorca et al., NeurIPS 2023): a map from one space to the other
  is estimated on the anchors, here an orthogonal (Procrustes) or a least-squares
  map after standard scaling, and the decoder, trained on absolute codes, reads the
  translated codes (:class:`~skrelrep.LatentTranslator`,
  :func:`~skrelrep.stitch_by_translation`).

This example compares them on the digits as the number of anchors grows.
"""

# %%
# Two encoders that differ only by their seed
# -------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skrelrep import (
    LatentTranslator,
    MLPEncoder,
    RelativeTransformer,
    StitchedPipeline,
    stitch,
    stitch_by_translation,
)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.5, stratify=y, random_state=0
)
encoder_a, encoder_b = (
    FrozenEstimator(
        MLPEncoder(hidden_layer_sizes=(32,), tol=1e-2, random_state=seed).fit(
            X_train, y_train
        )
    )
    for seed in (0, 1)
)

# %%
# The translation itself
# ----------------------
# Fit a :class:`~skrelrep.LatentTranslator` on 100 training images embedded by both
# encoders, and measure how close the translated codes of the test images are to
# encoder B's own codes: the fraction of the variance of B's codes left unexplained.
codes_a, codes_b = encoder_a.transform(X_test), encoder_b.transform(X_test)
anchors = X_train[:100]


def unexplained(predicted, target):
    return np.sum((predicted - target) ** 2) / np.sum((target - target.mean(0)) ** 2)


for method in ["orthogonal", "linear"]:
    translator = LatentTranslator(method).fit(
        encoder_a.transform(anchors), encoder_b.transform(anchors)
    )
    print(
        f"{method:>10}: unexplained variance "
        f"{unexplained(translator.transform(codes_a), codes_b):.3f}"
    )
print(f"{'untouched':>10}: unexplained variance {unexplained(codes_a, codes_b):.3f}")

# %%
# Stitching as the number of anchors grows
# ----------------------------------------
# The decoder is encoder B's logistic regression: on its absolute codes for
# translation, on its relative codes for relative stitching. Both stitching methods
# see the same anchors (the relative pipeline's random anchors). The least-squares
# translation needs more anchors than the code has features (32), so it starts at 40.
absolute_b = StitchedPipeline(
    encoder_b, "passthrough", LogisticRegression(max_iter=1000)
).fit(X_train, y_train)
rows = []
for n_anchors in [10, 20, 40, 80, 160, 320]:
    relative_b = StitchedPipeline(
        encoder_b,
        RelativeTransformer(n_anchors=n_anchors, center=True, random_state=0),
        LogisticRegression(max_iter=1000),
    ).fit(X_train, y_train)
    anchors = relative_b.anchor_inputs_
    row = {
        "anchors": n_anchors,
        "relative": stitch(encoder_a, relative_b).score(X_test, y_test),
        "relative, same encoder": relative_b.score(X_test, y_test),
    }
    for method in ["orthogonal", "linear"]:
        if method == "orthogonal" or n_anchors > 33:
            stitched = stitch_by_translation(
                encoder_a, absolute_b, anchors, method=method
            )
            row[f"translation ({method})"] = stitched.score(X_test, y_test)
    rows.append(row)
results = pd.DataFrame(rows).set_index("anchors")
print(results.round(3).to_string())

# %%
# From about 20 anchors on, both stitchings keep nearly all the accuracy of the
# matching encoder. Translation reaches the accuracy of encoder B's own absolute
# decoder (the orthogonal map with fewer anchors than the least-squares one, which has
# more parameters to estimate); relative stitching tracks the accuracy of encoder B's
# relative decoder, a little below it. With very few anchors both lose accuracy.
# Without any alignment, encoder A's codes read by encoder B's decoder are barely
# better than chance.
absolute_stitch = stitch(encoder_a, absolute_b, via="absolute").score(X_test, y_test)
same_encoder = absolute_b.score(X_test, y_test)

fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
for column, style in [
    ("translation (orthogonal)", "o-"),
    ("translation (linear)", "s-"),
    ("relative", "^-"),
    ("relative, same encoder", "^--"),
]:
    ax.plot(results.index, results[column], style, label=column)
ax.axhline(same_encoder, color="black", ls="--", label="same encoder (absolute)")
ax.axhline(absolute_stitch, color="grey", ls=":", label="absolute stitching")
ax.set(
    xscale="log",
    xlabel="number of parallel anchors",
    ylabel="test accuracy, encoder A → decoder B",
    title="Digits: stitching two MLP encoders",
    ylim=(0, 1),
)
ax.legend(loc="lower right")
plt.show()
