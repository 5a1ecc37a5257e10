"""Centring before the relative cosine, on every shipped encoder: ``center=False`` vs ``True``.

Usage, from the repository root::

    OMP_NUM_THREADS=2 .venv/bin/python -m benchmarks.bench_centering          # 8-15 min
    OMP_NUM_THREADS=2 .venv/bin/python -m benchmarks.bench_centering --quick  # < 1 min
    OMP_NUM_THREADS=2 .venv/bin/python -m benchmarks.bench_centering --out centering.md

Evidence for the default of :class:`~skrelrep.RelativeTransformer`'s ``center``. Each
data set is embedded once per encoder (the MLP encoders are retrained on each split's
training part, since they learn from it); every measurement then runs on the codes.
For each pair of encoders (A, B), each repeat (its own stratified split and its own
random anchors, both seeded ``random_state + repeat``) and each setting, the anchors
are the same items for both settings and both encoders: ``RelativeTransformer(
n_anchors, center=..., random_state=seed)`` is fitted on A's training codes and
``reanchor`` gives B's view of the same anchor items (parallel anchors).

- **Accuracy** (labelled pairs): a ``LogisticRegression(max_iter=2000)`` decoder per
  encoder, its C chosen by 3-fold cross-validation over (0.1, 1, 10, 100) on that
  encoder's relative training codes (the same search for both settings). Same model:
  a decoder on its own encoder's test codes; stitched: decoder A on B's relative test
  codes, and the other way round. Chance: the majority class rate of the test set.
- **Retrieval**: A's relative codes of the test items are the index, B's relative
  codes of the same items the queries (and the other way round); R@k is the share of
  queries whose own item is among the k nearest by cosine (ties count against it).
  Chance: k / n_test.
- **Crowding**: the mean pairwise cosine between codes as the relative cosine sees
  them: the raw codes for ``center=False``, the codes minus the anchors' mean for
  ``center=True`` (a sample of at most 1,000 items). Near 1: the codes sit in a
  narrow cone and every cosine to every anchor is about the same.
- **Word agreement** (Word2Vec ↔ FastText, no labels): also the paper's Jaccard@5 and
  MRR@5 (:func:`skrelrep.experiments.words.retrieval_agreement`) on the test words.

The table reports mean ± standard deviation over the repeats. Only accuracies mean
anything here; the run time depends on the machine's load.
"""

import argparse
import datetime
import os
import platform
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    StratifiedKFold,
    train_test_split,
)
from threadpoolctl import threadpool_limits

from skrelrep import MLPEncoder, RelativeTransformer
from skrelrep.experiments.text import TOPICS as FORTUNE_TOPICS

SETTINGS = (False, True)
C_GRID = (0.1, 1.0, 10.0, 100.0)
RETRIEVAL_K = (1, 10)
CROWDING_SAMPLE = 1000

PRESETS = {
    # Tiny samples, for the smoke test: checks the benchmark runs, not the encoders.
    "quick": {
        "repeats": 2,
        "n_anchors": 16,
        "fortunes_per_topic": 8,
        "chatterbot_lines": 80,
        "chatterbot_anchors": 16,
        "fashion_images": 60,
        "image_size": 32,
        "word_books": ["Matthew"],
        "word_epochs": 3,
        "word_min_frequency": 1,
        "digits": 300,
    },
    # 8 minutes on 2 cores (up to 15 when loaded), mostly embedding and word training.
    "full": {
        "repeats": 3,
        "n_anchors": 300,
        "fortunes_per_topic": 125,
        "chatterbot_lines": None,
        "chatterbot_anchors": 200,
        "fashion_images": 1000,
        "image_size": 64,
        "word_books": None,
        "word_epochs": 15,
        "word_min_frequency": 20,
        "digits": None,
    },
}


@dataclass
class Pair:
    """Two encoders' codes of the same items (row ``i`` is item ``i`` in both)."""

    name: str
    a: str
    b: str
    codes: object  # (A, B), or a callable train_indices -> (A, B)
    y: object = None  # labels, or None (retrieval only)
    n_items: int = 0
    n_anchors: int = 300
    test_size: float = 0.3
    words: bool = False
    notes: list = field(default_factory=list)

    def codes_for(self, train):
        codes = self.codes(train) if callable(self.codes) else self.codes
        return [np.asarray(X, dtype=np.float64) for X in codes]


def _log(message):
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Data and codes: every data set embedded once per encoder.


def _pairs(config, random_state, names=None):
    """The pairs of encoders and their codes (slow: embeds everything)."""
    from skrelrep.datasets import (
        load_chatterbot_parallel,
        load_fashion_mnist,
        load_fortunes,
    )
    from skrelrep.encoders import (
        E5SmallEncoder,
        EfficientNetLiteEncoder,
        MiniLML3Encoder,
        MiniLML6Encoder,
    )

    wanted = (lambda name: True) if names is None else (lambda name: name in names)
    timer = _Timer()
    pairs = []
    l6 = MiniLML6Encoder(device="cpu")
    e5 = E5SmallEncoder()

    if wanted("fortunes: MiniLM-L6 ↔ L3") or wanted("fortunes: MiniLM-L6 ↔ e5"):
        texts, y = load_fortunes(
            list(FORTUNE_TOPICS),
            n_per_topic=config["fortunes_per_topic"],
            max_chars=500,
            random_state=random_state,
            return_X_y=True,
        )
        fortunes_l6 = timer("fortunes, MiniLM-L6", l6.fit_transform, texts)
        if wanted("fortunes: MiniLM-L6 ↔ L3"):
            l3 = MiniLML3Encoder()
            fortunes_l3 = timer("fortunes, MiniLM-L3", l3.fit_transform, texts)
            pairs.append(
                Pair(
                    "fortunes: MiniLM-L6 ↔ L3",
                    "L6",
                    "L3",
                    (fortunes_l6, fortunes_l3),
                    y,
                    len(texts),
                    config["n_anchors"],
                )
            )
        if wanted("fortunes: MiniLM-L6 ↔ e5"):
            fortunes_e5 = timer("fortunes, e5", e5.fit_transform, texts)
            pairs.append(
                Pair(
                    "fortunes: MiniLM-L6 ↔ e5",
                    "L6",
                    "e5",
                    (fortunes_l6, fortunes_e5),
                    y,
                    len(texts),
                    config["n_anchors"],
                )
            )

    if wanted("chatterbot: MiniLM-L6 (en) ↔ e5 (it)"):
        corpus = load_chatterbot_parallel(
            ("english", "italian"),
            n_samples=config["chatterbot_lines"],
            random_state=random_state,
        )
        english = timer(
            "chatterbot English, MiniLM-L6", l6.fit_transform, corpus.data["english"]
        )
        italian = timer(
            "chatterbot Italian, e5", e5.fit_transform, corpus.data["italian"]
        )
        pairs.append(
            Pair(
                "chatterbot: MiniLM-L6 (en) ↔ e5 (it)",
                "L6 en",
                "e5 it",
                (english, italian),
                np.asarray(corpus.target),
                len(corpus.target),
                config["chatterbot_anchors"],
            )
        )

    if wanted("fashion-mnist: EfficientNet-Lite0 ↔ Lite2"):
        images, y = load_fashion_mnist(
            n_samples=config["fashion_images"],
            random_state=random_state,
            return_X_y=True,
        )
        codes = [
            timer(
                f"fashion-mnist, EfficientNet-{variant}",
                EfficientNetLiteEncoder(
                    variant,
                    image_size=config["image_size"],
                    image_shape=(28, 28),
                    device="cpu",
                ).fit_transform,
                images,
            )
            for variant in ("lite0", "lite2")
        ]
        pairs.append(
            Pair(
                "fashion-mnist: EfficientNet-Lite0 ↔ Lite2",
                "Lite0",
                "Lite2",
                tuple(codes),
                y,
                len(y),
                config["n_anchors"],
            )
        )

    if wanted("words: Word2Vec ↔ FastText"):
        pairs.append(_word_pair(config, random_state, timer))

    if wanted("digits: MLP seed 0 ↔ seed 1"):
        pairs.append(_digit_pair(config, random_state))
    return pairs, timer.log


def _word_pair(config, random_state, timer):
    """Word2Vec and FastText trained as in ``skrelrep.experiments.words``."""
    from skrelrep.datasets import load_word_corpus
    from skrelrep.experiments.words import shared_vocabulary, train_word_encoders

    sentences = load_word_corpus("bible", books=config["word_books"])
    encoders = timer(
        "words, Word2Vec + FastText training",
        train_word_encoders,
        sentences,
        epochs=config["word_epochs"],
        random_state=random_state,
        show_progress=False,
    )
    counts = Counter(word for sentence in sentences for word in sentence)
    words = shared_vocabulary(
        encoders, counts, min_frequency=config["word_min_frequency"]
    )
    corpus = "the King James Bible" + (
        f" ({', '.join(config['word_books'])})" if config["word_books"] else ""
    )
    return Pair(
        "words: Word2Vec ↔ FastText",
        "W2V",
        "FT",
        (encoders["W2V"].transform(words), encoders["FT"].transform(words)),
        None,
        len(words),
        config["n_anchors"],
        test_size=0.5,
        words=True,
        notes=[
            f"{len(words):,} words seen at least {config['word_min_frequency']} "
            f"times in {corpus}, skip-gram 100-d, {config['word_epochs']} epochs; "
            "half of them the anchor pool, the other half retrieved"
        ],
    )


def _digit_pair(config, random_state):
    """Two MLP encoders of scikit-learn's digits, seeds 0 and 1, per split."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    if config["digits"] is not None:
        X, _, y, _ = train_test_split(
            X, y, train_size=config["digits"], stratify=y, random_state=random_state
        )

    def codes(train):
        out = []
        for seed in (0, 1):
            encoder = MLPEncoder(
                (64,), activation="tanh", max_iter=100, random_state=seed
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                encoder.fit(X[train], y[train])
            out.append(encoder.transform(X))
        return out

    return Pair(
        "digits: MLP seed 0 ↔ seed 1",
        "seed 0",
        "seed 1",
        codes,
        y,
        len(y),
        config["n_anchors"],
        notes=["MLP encoders retrained on each split's training part"],
    )


class _Timer:
    def __init__(self):
        self.log = []

    def __call__(self, what, function, *args, **kwargs):
        start = time.perf_counter()
        value = function(*args, **kwargs)
        seconds = time.perf_counter() - start
        self.log.append((what, seconds))
        _log(f"  embedded {what}: {seconds:.1f} s")
        return value


# ---------------------------------------------------------------------------
# Measurements on the codes.


def _unit(X):
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(norms > 0, norms, 1.0)


def mean_pairwise_cosine(X):
    """Mean cosine between distinct rows of ``X``."""
    U = _unit(np.asarray(X, dtype=np.float64))
    n = len(U)
    total = np.sum(U.sum(axis=0) ** 2) - np.sum(U * U)
    return float(total / (n * (n - 1)))


def recall_at_k(index, queries, ks=RETRIEVAL_K):
    """Share of ``queries[i]`` whose nearest rows of ``index`` (cosine) hold row ``i``.

    Ties with the own item count against it.
    """
    similarity = _unit(queries) @ _unit(index).T
    own = np.diagonal(similarity)[:, None]
    ranks = np.count_nonzero(similarity >= own, axis=1) - 1  # rivals at least as near
    return {k: float(np.mean(ranks < k)) for k in ks}


def _cv(y, seed):
    counts = np.bincount(y)
    counts = counts[counts > 0]
    if counts.min() >= 3:
        return StratifiedKFold(3, shuffle=True, random_state=seed)
    return KFold(3, shuffle=True, random_state=seed)


def tuned_decoder(X, y, seed):
    """``LogisticRegression(max_iter=2000)`` with C from a 3-fold grid search."""
    search = GridSearchCV(
        LogisticRegression(max_iter=2000), {"C": list(C_GRID)}, cv=_cv(y, seed)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    return search.best_estimator_


def _split(pair, seed):
    items = np.arange(pair.n_items)
    stratify = None
    if pair.y is not None:
        counts = np.bincount(pair.y)
        # A class of one item (tiny quick-mode samples) cannot be stratified.
        stratify = pair.y if counts[counts > 0].min() >= 2 else None
    return train_test_split(
        items, test_size=pair.test_size, stratify=stratify, random_state=seed
    )


def _measure_repeat(pair, seed):
    """Every metric of one repeat, both settings: ``{(metric, center): value}``."""
    train, test = _split(pair, seed)
    A, B = pair.codes_for(train)
    rng = np.random.RandomState(seed)
    sample = rng.choice(pair.n_items, min(CROWDING_SAMPLE, pair.n_items), replace=False)
    n_anchors = min(pair.n_anchors, len(train))
    values, chance, chosen_c = {}, {}, {}
    a, b = pair.a, pair.b
    for center in SETTINGS:
        # Uncentred e5 anchors crowd and fit warns of it: the table reports crowding.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "The anchors crowd", UserWarning)
            relative_a = RelativeTransformer(
                n_anchors, center=center, random_state=seed
            ).fit(A[train])
            anchors = np.asarray(relative_a.anchor_indices_)
            relative_b = relative_a.reanchor(B[train][anchors])
        codes = {
            a: (relative_a.transform(A[train]), relative_a.transform(A[test])),
            b: (relative_b.transform(B[train]), relative_b.transform(B[test])),
        }
        for name, X, relative in ((a, A, relative_a), (b, B, relative_b)):
            seen = X[sample] - relative.anchor_mean_ if center else X[sample]
            values[(f"crowding: mean pairwise cosine, {name}", center)] = (
                mean_pairwise_cosine(seen)
            )
        if pair.y is not None:
            y_train, y_test = pair.y[train], pair.y[test]
            majority = np.bincount(y_test).max() / len(y_test)
            decoders = {
                name: tuned_decoder(codes[name][0], y_train, seed) for name in (a, b)
            }
            for name, decoder in decoders.items():
                chosen_c[(name, center)] = decoder.C
                metric = f"accuracy: same model, {name}"
                values[(metric, center)] = decoder.score(codes[name][1], y_test)
                chance[metric] = majority
            for decoder, encoder in ((a, b), (b, a)):
                metric = f"accuracy: stitched, {decoder} decoder on {encoder} codes"
                values[(metric, center)] = decoders[decoder].score(
                    codes[encoder][1], y_test
                )
                chance[metric] = majority
        for index, query in ((a, b), (b, a)):
            found = recall_at_k(codes[index][1], codes[query][1])
            for k, recall in found.items():
                metric = f"retrieval R@{k}: {index} index, {query} queries"
                values[(metric, center)] = recall
                chance[metric] = min(k, len(test)) / len(test)
        if pair.words:
            from skrelrep.experiments.words import retrieval_agreement

            for source, target in ((a, b), (b, a)):
                agreement = retrieval_agreement(codes[source][1], codes[target][1])
                values[(f"words: Jaccard@5, {source}→{target}", center)] = (
                    agreement.jaccard
                )
                values[(f"words: MRR@5, {source}→{target}", center)] = agreement.mrr
    return values, chance, chosen_c


def _metric_order(metric):
    order = ("accuracy: same", "accuracy: stitched", "retrieval", "words", "crowding")
    return next(i for i, prefix in enumerate(order) if metric.startswith(prefix))


def measure_pair(pair, *, repeats, random_state):
    """Rows of the table for one pair (mean ± std over ``repeats``)."""
    collected, chances, choices = {}, {}, {}
    for repeat in range(repeats):
        # One BLAS thread: these products are small, and on a shared 2-core machine
        # a second thread made the decoders' fits about seven times slower.
        with threadpool_limits(1):
            values, chance, chosen_c = _measure_repeat(pair, random_state + repeat)
        for key, value in values.items():
            collected.setdefault(key, []).append(value)
        for key, value in chance.items():
            chances.setdefault(key, []).append(value)
        for key, value in chosen_c.items():
            choices.setdefault(key, []).append(value)
    # Grouped by kind of metric, in the order they were measured within a kind.
    metrics = sorted(dict.fromkeys(m for m, _ in collected), key=_metric_order)
    rows = []
    for metric in metrics:
        row = {"pair": pair.name, "metric": metric}
        for center in SETTINGS:
            found = np.asarray(collected[(metric, center)], dtype=float)
            row[f"center={center}"] = (float(found.mean()), float(found.std()))
        row["chance"] = float(np.mean(chances[metric])) if metric in chances else None
        rows.append(row)
    return rows, choices


# ---------------------------------------------------------------------------
# Report.


def _cell(value):
    mean, std = value
    return f"{mean:.3f} ± {std:.3f}"


def to_markdown(rows, *, choices=None, notes=None, meta=None):
    """The table (pair, metric, center=False, center=True, chance) and notes."""
    lines = []
    if meta:
        lines += [f"- {key}: {value}" for key, value in meta.items()] + [""]
    lines += [
        "| pair | metric | center=False | center=True | chance |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        chance = "" if row["chance"] is None else f"{row['chance']:.3f}"
        lines.append(
            f"| {row['pair']} | {row['metric']} | {_cell(row['center=False'])} | "
            f"{_cell(row['center=True'])} | {chance} |"
        )
    if choices:
        lines += ["", "C chosen by the decoders' grid search (per repeat):", ""]
        for pair, chosen in choices.items():
            if not chosen:
                continue
            parts = [
                f"{name}, center={center}: "
                + "/".join(f"{c:g}" for c in chosen[(name, center)])
                for name, center in sorted(chosen, key=lambda key: (key[1], key[0]))
            ]
            lines.append(f"- {pair}: " + "; ".join(parts))
    if notes:
        lines += ["", *[f"- {note}" for note in notes]]
    return "\n".join(lines) + "\n"


def _meta(preset, seconds, embed_log, command):
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next(
                line.split(":", 1)[1].strip()
                for line in cpuinfo
                if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    embedding = sum(s for _, s in embed_log)
    return {
        "date": datetime.date.today().isoformat(),
        "command": f"`{command}`",
        "machine": f"{cpu}, {os.cpu_count()} cores "
        f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})",
        "preset": preset,
        "run time": f"{seconds:.0f} s (embedding and word training {embedding:.0f} s)",
    }


def run(
    preset="quick",
    *,
    random_state=0,
    repeats=None,
    pairs=None,
):
    """Measure every pair; returns ``(rows, choices, notes, embed_log)``.

    Parameters
    ----------
    preset : {"quick", "full"}
    random_state : int, default=0
        Repeat ``r`` splits and draws anchors with seed ``random_state + r``.
    repeats : int, default=None
        Splits and anchor draws; by default the preset's.
    pairs : list of str, default=None
        Names of the pairs to run (all by default).
    """
    config = PRESETS[preset]
    repeats = repeats or config["repeats"]
    built, embed_log = _pairs(config, random_state, names=pairs)
    rows, choices, notes = [], {}, []
    for pair in built:
        start = time.perf_counter()
        pair_rows, chosen = measure_pair(
            pair, repeats=repeats, random_state=random_state
        )
        rows += pair_rows
        choices[pair.name] = chosen
        notes += [f"{pair.name}: {note}" for note in pair.notes]
        _log(
            f"  measured {pair.name} ({pair.n_items} items, "
            f"{min(pair.n_anchors, pair.n_items)} anchors at most): "
            f"{time.perf_counter() - start:.1f} s"
        )
    notes.append(
        f"{repeats} repeats (split and anchors seeded {random_state}…"
        f"{random_state + repeats - 1}); test share 0.3 (words 0.5); "
        "mean ± std over repeats"
    )
    return rows, choices, notes, embed_log


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="tiny samples, under a minute"
    )
    parser.add_argument("--out", help="write the Markdown table to this file")
    parser.add_argument("--repeats", type=int, help="splits and anchor draws")
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    preset = "quick" if args.quick else "full"
    start = time.perf_counter()
    rows, choices, notes, embed_log = run(
        preset, random_state=args.random_state, repeats=args.repeats
    )
    command = " ".join(
        [
            f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '')}"
            if "OMP_NUM_THREADS" in os.environ
            else "",
            ".venv/bin/python -m benchmarks.bench_centering",
            *(sys.argv[1:] if argv is None else argv),
        ]
    )
    meta = _meta(preset, time.perf_counter() - start, embed_log, command.strip())
    table = to_markdown(rows, choices=choices, notes=notes, meta=meta)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(table)
        _log(f"table written to {args.out}")
    else:
        print(table)


if __name__ == "__main__":
    main()
