"""Measure :class:`skrelrep.retrieval.QueryBridge` on the fortunes corpus.

Two steps, each a subcommand:

``embed MODEL``
    Embed every document (a quote) and every query (its first half) with one model
    and cache the vectors as ``CACHE/bridge_<model>_{docs,queries}.npy``; the texts
    go to ``CACHE/bridge_texts.json``. Models: ``L6``, ``L3`` (MiniLM),
    ``e5`` (``passage:`` documents, ``query:`` queries), ``w2v`` (the mean of
    Word2Vec word vectors trained on the fortunes word corpus: a static model).
``measure``
    The tables of the report, from the cached vectors (see ``--help``).

Run it with ``nice``: e5 takes about an hour on a shared 2-core machine.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

CACHE = Path(os.environ.get("SKRELREP_BRIDGE_CACHE", "/work/cache"))
MODELS = ("L6", "L3", "e5", "w2v")


def texts():
    """Unique documents (quotes of 8 words or more, at most 400 characters) and their
    first halves, with no two documents and no two queries alike."""
    path = CACHE / "bridge_texts.json"
    if path.exists():
        data = json.loads(path.read_text())
        return data["documents"], data["queries"]
    from skrelrep.datasets import load_fortunes
    from skrelrep.experiments.migration import half_queries

    quotes, _ = load_fortunes(max_chars=400, return_X_y=True)
    documents, queries = half_queries(quotes)
    seen_d, seen_q, keep_d, keep_q = set(), set(), [], []
    for d, q in zip(documents, queries, strict=True):
        if d in seen_d or q in seen_q:
            continue
        seen_d.add(d)
        seen_q.add(q)
        keep_d.append(d)
        keep_q.append(q)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"documents": keep_d, "queries": keep_q}))
    tmp.replace(path)
    return keep_d, keep_q


def _save(name, array):
    path = CACHE / f"bridge_{name}.npy"
    tmp = CACHE / f"bridge_{name}.tmp.npy"
    np.save(tmp, np.asarray(array, dtype=np.float32))
    tmp.replace(path)
    print(f"saved {path} {array.shape}", flush=True)


def _static_encoder(random_state=0):
    """Mean of Word2Vec vectors (300-d, trained on the fortunes word corpus)."""
    import re

    from skrelrep.datasets import load_word_corpus
    from skrelrep.encoders import Word2VecEncoder

    words = Word2VecEncoder(
        vector_size=300, min_count=3, sg=True, epochs=15, random_state=random_state
    ).fit(load_word_corpus("fortunes"))
    token = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")

    def encode(batch):
        out = np.zeros((len(batch), words.vector_size), dtype=np.float32)
        for i, text in enumerate(batch):
            known = [w for w in token.findall(text.lower()) if w in words.vocabulary_]
            if known:
                out[i] = words.transform(known).mean(axis=0)
        return out

    return encode


def embed(model, part):
    documents, queries = texts()
    parts = {"docs": documents, "queries": queries}
    wanted = [part] if part else ["docs", "queries"]
    if model == "w2v":
        encode = _static_encoder()
        for name in wanted:
            _save(f"w2v_{name}", encode(parts[name]))
        return
    from skrelrep.encoders import E5SmallEncoder, MiniLML3Encoder, MiniLML6Encoder

    for name in wanted:
        if (CACHE / f"bridge_{model}_{name}.npy").exists():
            print(f"{model} {name}: cached", flush=True)
            continue
        start = time.perf_counter()
        if model == "e5":
            mode = "passage" if name == "docs" else "query"
            encoder = E5SmallEncoder(mode=mode, n_threads=1, verbose=False)
        elif model == "L6":
            encoder = MiniLML6Encoder(device="cpu", verbose=False)
        else:
            encoder = MiniLML3Encoder(device="cpu", verbose=False)
        # Batches, so that a long run reports progress and can be watched.
        rows, batch = [], 500
        for i in range(0, len(parts[name]), batch):
            rows.append(encoder.fit_transform(parts[name][i : i + batch]))
            print(
                f"{model} {name}: {i + batch}/{len(parts[name])} "
                f"{time.perf_counter() - start:.0f}s",
                flush=True,
            )
        _save(f"{model}_{name}", np.concatenate(rows))


PAIRS = {
    # (queries' model, index's model)
    "e5->L6": ("e5", "L6"),
    "w2v->L6": ("w2v", "L6"),
    "L3->L6": ("L3", "L6"),
    "L6->e5": ("L6", "e5"),
    "e5->L3": ("e5", "L3"),
    "w2v->e5": ("w2v", "e5"),
}
VARIANTS = {
    "full": {},
    "no CSLS": {"hubness": None},
    "no self-training": {"max_rounds": 0},
    "no relative start": {"start": "translation"},
    "no refinement": {"max_epochs": 0},
    "mutual-NN pairing": {"pairing": "mutual"},
}


def _load(model, part):
    return np.load(CACHE / f"bridge_{model}_{part}.npy", mmap_mode="r")


def draw(
    seed,
    n_items,
    *,
    n_index=6000,
    n_test=1000,
    n_pool=2000,
    n_unpaired=3000,
    outside=False,
):
    """Disjoint items of one draw: the index, its test items, the anchor pool and
    the unpaired queries' items (in the index, or outside it)."""
    order = np.random.RandomState(seed).permutation(n_items)
    index = order[:n_index]
    test = np.arange(n_test)
    pool = np.arange(n_test, n_test + n_pool)
    if outside:
        unpaired = order[n_index : n_index + n_unpaired]
    else:
        unpaired = index[n_test + n_pool : n_test + n_pool + n_unpaired]
    return index, test, pool, unpaired


def _recall(ids, targets):
    return float(np.mean((ids == targets[:, None]).any(axis=1)))


def run_one(
    pair, n_anchors, seed, *, unpaired=True, variant="full", n_index=6000, outside=False
):
    """One fit and its scores: a dict (one row of the results)."""
    from skrelrep import LatentTranslator, RelativeTransformer
    from skrelrep.metrics import retrieval_scores
    from skrelrep.retrieval import QueryBridge

    new, old = PAIRS[pair]
    old_docs, new_docs = _load(old, "docs"), _load(new, "docs")
    new_queries = _load(new, "queries")
    sizes = {"n_index": n_index}
    if n_index < 6000:
        sizes.update(n_test=n_index // 4, n_pool=n_index // 2, outside=True)
        outside = True
    index, test, pool, unpaired_items = draw(
        seed, old_docs.shape[0], outside=outside, **sizes
    )
    D = np.asarray(old_docs[index])
    queries = np.asarray(new_queries[index[test]])
    reembedded = retrieval_scores(queries, np.asarray(new_docs[index])).recall[10]
    anchors = np.random.RandomState(1000 + seed).choice(pool, n_anchors, replace=False)
    X, Y = np.asarray(new_docs[index[anchors]]), D[anchors]
    U = np.asarray(new_queries[unpaired_items]) if unpaired else None
    bridge = QueryBridge(random_state=seed, **VARIANTS[variant])
    wall, cpu = time.perf_counter(), time.process_time()
    bridge.fit(X, Y, index=D, unpaired_queries=U)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    ids = bridge.kneighbors(queries, n_neighbors=10, return_distance=False)
    bridged = _recall(ids, test)
    row = {
        "pair": pair,
        "n_index": n_index,
        "n_anchors": n_anchors,
        "unpaired": 0 if U is None else U.shape[0],
        "outside": outside,
        "seed": seed,
        "variant": variant,
        "re-embedded": reembedded,
        "bridged": bridged,
        "fraction": bridged / reembedded,
        "cv_score": bridge.cv_score_,
        "forecast": bridge.forecast_["recall@10"],
        "interval": list(bridge.forecast_["interval"]),
        "start": bridge.start_,
        "method": f"{bridge.method_}/{bridge.scaling_}",
        "rounds": bridge.n_rounds_,
        "epochs": bridge.n_epochs_,
        "hubness": bridge.hubness_,
        "n_pairs": bridge.n_pairs_,
        "wall_s": wall,
        "cpu_s": cpu,
        "margins": bridge._cv_margins.tolist(),
        "final_margins": bridge._final_margins.tolist(),
    }
    if variant == "full":
        translator = LatentTranslator().fit(X, Y)
        row["orthogonal"] = (
            retrieval_scores(translator.transform(queries), D).recall[10] / reembedded
        )
        relative = RelativeTransformer(
            n_anchors=None, anchor_selection=list(anchors), center=True
        ).fit(D)
        row["relative"] = (
            retrieval_scores(
                relative.reanchor(X).transform(queries), relative.transform(D)
            ).recall[10]
            / reembedded
        )
    return row


def grid(name):
    """The runs of one named grid: (pair, n_anchors, seed, options)."""
    runs = []
    if name == "targets":
        for pair in ("e5->L6", "w2v->L6"):
            for n_anchors in (50, 1000):
                for seed in range(3):
                    for variant in VARIANTS:
                        runs.append((pair, n_anchors, seed, {"variant": variant}))
                    runs.append((pair, n_anchors, seed, {"unpaired": False}))
    elif name == "forecast":
        for pair in PAIRS:
            for i, n_anchors in enumerate((50, 200, 1000, 2000)):
                for unpaired in (True, False):
                    seed = 10 + i + 4 * unpaired
                    runs.append((pair, n_anchors, seed, {"unpaired": unpaired}))
    elif name == "untuned":
        for seed in range(3):
            runs.append(("L3->L6", 1000, seed, {}))
            runs.append(("e5->L6", 1000, seed, {"n_index": 2000}))
            runs.append(("e5->L6", 1000, seed, {"outside": True}))
            runs.append(("w2v->e5", 1000, seed, {}))
    return runs


def measure(names, out, worker, n_workers):
    out = Path(out)
    done = set()
    for path in out.parent.glob(out.name + "*"):
        for line in path.read_text().splitlines():
            done.add(json.loads(line)["key"])
    runs = [run for name in names for run in grid(name)]
    with open(f"{out}.{worker}", "a") as sink:
        for i, (pair, n_anchors, seed, options) in enumerate(runs):
            key = json.dumps([pair, n_anchors, seed, options], sort_keys=True)
            if i % n_workers != worker or key in done:
                continue
            row = run_one(pair, n_anchors, seed, **options)
            row["key"] = key
            sink.write(json.dumps(row) + "\n")
            sink.flush()
            print(
                f"{pair} {n_anchors} {options} seed={seed}: "
                f"{row['fraction']:.3f} (cv {row['cv_score']:.3f}, "
                f"{row['cpu_s']:.0f} s cpu)",
                flush=True,
            )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("embed")
    e.add_argument("model", choices=MODELS)
    e.add_argument("--part", choices=("docs", "queries"))
    m = sub.add_parser("measure")
    m.add_argument("grids", nargs="+", choices=("targets", "forecast", "untuned"))
    m.add_argument("--out", default=str(CACHE / "bridge_results.jsonl"))
    m.add_argument("--worker", type=int, default=0)
    m.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    if args.command == "embed":
        embed(args.model, args.part)
    else:
        measure(args.grids, args.out, args.worker, args.workers)


if __name__ == "__main__":
    sys.exit(main())
