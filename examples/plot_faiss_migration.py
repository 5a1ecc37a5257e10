"""
===================================================
Plan a model migration for a FAISS index
===================================================

A FAISS index holds a corpus embedded by an old model, all-MiniLM-L6-v2; the queries
now come from a new one, multilingual-e5-small. Before re-embedding the corpus,
``skrelrep migrate plan`` forecasts how much of re-embedding's retrieval a
:class:`~skrelrep.retrieval.QueryBridge` would keep, from what is at hand before
switching: the index file, a few parallel anchors (corpus items embedded by both
models) and a log of the new model's queries. The bridge it saves then serves the
new model's queries from FAISS, with its hubness correction as one extra
coordinate (:ref:`migration`).

To keep the example quick, it uses 300 short quotes (the Debian ``fortunes``): each
quote is a document, its first half the query that should find it. Install the
encoders and FAISS with ``pip install torch==2.13.0 "skrelrep[text,migrate]"`` and
the quotes with ``apt-get install fortunes``.
"""

# %%
# The old index, as a FAISS file
# -------------------------------
# MiniLM-L6 embeds the corpus; the unit rows go into a FAISS inner-product index,
# written to disk as a vector store would keep it.
import json
import tempfile
from pathlib import Path

import faiss
import matplotlib.pyplot as plt
import numpy as np

from skrelrep.cli import main
from skrelrep.datasets import load_fortunes
from skrelrep.encoders import E5SmallEncoder, MiniLML6Encoder
from skrelrep.retrieval import faiss_index, load_bridge, search_faiss

texts, _ = load_fortunes(max_chars=300, random_state=0, return_X_y=True)
corpus = [text for text in texts if len(text.split()) >= 8][:300]
queries = [" ".join(t.split()[: len(t.split()) // 2]) for t in corpus]

index_old = MiniLML6Encoder(device="cpu").transform(corpus)
index_old /= np.linalg.norm(index_old, axis=1, keepdims=True)
store_old = faiss.IndexFlatIP(index_old.shape[1])
store_old.add(index_old)
folder = Path(tempfile.mkdtemp())
faiss.write_index(store_old, str(folder / "index_old.faiss"))

# %%
# Anchors and a query log from the new model
# ------------------------------------------
# e5 embeds documents and queries with different prefixes: ``mode="passage"`` for
# the 100 anchor quotes, ``mode="query"`` for the queries. 100 queries form the log
# (their answers unknown to the bridge); 100 others are the test, with known answers.
passages_new = E5SmallEncoder(mode="passage")
queries_new = E5SmallEncoder(mode="query")
rng = np.random.RandomState(0)
anchors, log, test = np.split(rng.permutation(len(corpus)), [100, 200])
np.save(folder / "anchors_old.npy", index_old[anchors])
np.save(
    folder / "anchors_new.npy", passages_new.transform([corpus[i] for i in anchors])
)
np.save(folder / "log_new.npy", queries_new.transform([queries[i] for i in log]))

# %%
# The plan
# --------
# The command line reads the FAISS file back (a flat index stores its vectors), fits
# bridges on 12, 25, 50 and 100 anchors and writes the report, the plan and the bridge.
status = main(
    [
        "migrate", "plan", str(folder / "index_old.faiss"),
        str(folder / "anchors_old.npy"), str(folder / "anchors_new.npy"),
        "--queries", str(folder / "log_new.npy"),
        "--out", str(folder / "plan"), "--no-progress",
    ]
)  # fmt: skip
assert status == 0
plan = json.loads((folder / "plan" / "plan.json").read_text())
print(plan["recommendation"], "--", plan["rule"])
print(plan["method"])

# %%
# Bridge, against re-embedding
# ----------------------------
# The saved bridge loads with :func:`~skrelrep.retrieval.load_bridge` (it trusts only
# skrelrep, scikit-learn, NumPy and SciPy classes) and serves the test queries from a
# FAISS index one column wider, whose extra coordinate carries the hubness term.
# Re-embedding the corpus with e5 is the reference.
bridge = load_bridge(folder / "plan" / "bridge.skops")
test_new = queries_new.transform([queries[i] for i in test])
_, bridged = search_faiss(bridge, faiss_index(bridge), test_new, n_neighbors=10)

corpus_new = passages_new.transform(corpus)
store_new = faiss.IndexFlatIP(corpus_new.shape[1])
store_new.add(corpus_new / np.linalg.norm(corpus_new, axis=1, keepdims=True))
_, reembedded = store_new.search(test_new, 10)
_, naive = store_old.search(test_new, 10)  # e5 queries in the MiniLM index, unmapped


def recall_at_10(ids):
    return float((ids == test[:, None]).any(axis=1).mean())


results = {
    "unmapped": recall_at_10(naive),
    "bridge (FAISS)": recall_at_10(bridged),
    "re-embedded": recall_at_10(reembedded),
}
for name, value in results.items():
    print(f"{name:>15}: Recall@10 {value:.2f}")
print(
    f"the bridge keeps {results['bridge (FAISS)'] / results['re-embedded']:.2f} of "
    f"re-embedding; forecast {plan['forecast_recall@10']:.2f}"
)

# %%
# The forecast against the number of anchors, and what was measured.
curve = plan["curve"]
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
n = [point["n_anchors"] for point in curve]
left.plot(n, [point["forecast_recall@10"] for point in curve], marker="o")
left.fill_between(
    n, *zip(*(point["interval"] for point in curve), strict=True), alpha=0.25
)
left.axhline(plan["threshold"], color="grey", linestyle="--")
left.set(xlabel="parallel anchors", ylabel="forecast fraction of re-embedding",
         title="The plan's curve")  # fmt: skip
right.bar(list(results), list(results.values()), color=["grey", "C0", "C2"])
right.set(ylabel="Recall@10 of the test queries", ylim=(0, 1), title="Measured")
fig.tight_layout()
plt.show()
