"""
==============================================
Reuse a fitted classifier with a new encoder
==============================================

The commonest stitching problem: a classifier was trained on the embeddings of one
model, and the texts are now embedded by another. Retraining needs the labelled
training set embedded again by the new model. :func:`~skrelrep.stitch_decoder` needs
only a few hundred *anchor* texts, embedded by both models: a
:class:`~skrelrep.LatentTranslator` fitted on them maps the new model's embeddings
into the old model's space, where the classifier reads them as it was trained to.

Here a topic classifier of English quotes (the Debian ``fortunes``) was trained on
all-MiniLM-L6-v2 embeddings, and the quotes are now embedded by multilingual-e5-small
in its query mode: another architecture, other training data, the same width (384).
To keep the example quick, it uses 200 short quotes and 60 anchors; the user guide
(:ref:`reuse_decoder`) gives the figures of a larger run. Install the encoders with
``pip install torch==2.13.0 "skrelrep[text]"`` and the quotes with
``apt-get install fortunes``.
"""

# %%
# A classifier trained on one model's embeddings
# ----------------------------------------------
# Half of the quotes train a logistic regression on MiniLM-L6 embeddings: the model
# you already have. Its encoder and its training set are all it knows.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skrelrep import stitch_decoder
from skrelrep.datasets import load_fortunes
from skrelrep.encoders import E5SmallEncoder, MiniLML6Encoder

topics = ["computers", "education", "food", "law", "love", "politics", "science"]
topics += ["sports"]
texts, y = load_fortunes(
    topics, n_per_topic=25, max_chars=300, random_state=0, return_X_y=True
)
texts_train, texts_test, y_train, y_test = train_test_split(
    texts, y, test_size=0.5, stratify=y, random_state=0
)
old_encoder = MiniLML6Encoder(device="cpu")
classifier = LogisticRegression(max_iter=1000).fit(
    old_encoder.transform(texts_train), y_train
)
own = classifier.score(old_encoder.transform(texts_test), y_test)
print(f"MiniLM-L6 classifier on MiniLM-L6 embeddings: {own:.3f}")

# %%
# The same classifier, reading another model
# ------------------------------------------
# :func:`~skrelrep.stitch_decoder` takes the fitted classifier, the encoder it was
# trained on, the new encoder and the anchor texts. Any texts of the domain serve as
# anchors; here 60 training quotes, without their labels. Only they are embedded, once
# by each model: the classifier's training set is not embedded again. The result is a
# fitted :class:`~skrelrep.StitchedPipeline` that reads raw texts.
new_encoder = E5SmallEncoder(mode="query")
rng = np.random.RandomState(0)
anchors = [texts_train[i] for i in rng.choice(len(texts_train), 60, replace=False)]
stitched = stitch_decoder(classifier, old_encoder, new_encoder, anchors)
print(list(stitched.named_steps["encoder"].named_steps))
stitched_score = stitched.score(texts_test, y_test)
print(f"MiniLM-L6 classifier reading e5, translated: {stitched_score:.3f}")

# %%
# Against retraining, and against reading e5 as it is
# ---------------------------------------------------
# Retraining on e5 embeddings of the training set is what stitching saves. The
# classifier fed e5 embeddings directly (the absolute baseline) has no reason to
# understand them, although they have the right width: it scores at chance.
new_test = new_encoder.transform(texts_test)
retrained = LogisticRegression(max_iter=1000).fit(
    new_encoder.transform(texts_train), y_train
)
scores = {
    "MiniLM-L6,\nits own classifier": own,
    "e5, MiniLM-L6 classifier\n(stitch_decoder)": stitched_score,
    "e5, retrained\nclassifier": retrained.score(new_test, y_test),
    "e5, MiniLM-L6 classifier\nread as it is": classifier.score(new_test, y_test),
}
chance = 1 / len(topics)
for name, score in scores.items():
    print(f"{name.replace(chr(10), ' '):50s} {score:.3f}")

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.bar(list(scores), list(scores.values()), color=["C0", "C2", "C1", "C3"])
ax.axhline(chance, color="gray", linestyle="--", label=f"chance ({chance:.3f})")
ax.set_ylabel("test accuracy")
ax.set_ylim(0, 1)
ax.set_title(f"A topic classifier reading e5 through {len(anchors)} anchors")
ax.legend(loc="upper right")
fig.tight_layout()
plt.show()

# %%
# The translation works on the embeddings, so the classifier can be anything that
# reads them: a pipeline with a scaler, a gradient-boosted model, a regressor. A
# classifier trained on relative representations is stitched the same way, with its
# fitted :class:`~skrelrep.RelativeTransformer` passed as ``relative``.
