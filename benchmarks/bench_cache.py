"""A grid search over anchor counts with a pretrained text encoder: cached or not.

Usage, from the repository root::

    OMP_NUM_THREADS=2 .venv/bin/python -m benchmarks.bench_cache           # ~3 min on 2 cores
    OMP_NUM_THREADS=2 .venv/bin/python -m benchmarks.bench_cache --quick   # smoke

``GridSearchCV(cv=3)`` over ``relative__n_anchors`` of a StitchedPipeline whose
encoder is MiniLM-L6 (pretrained, offline), on English fortunes in 8 topics, run
three ways side by side in one process:

- ``uncached``: ``StitchedPipeline(memory=None)``, which encodes every fold of every
  candidate;
- ``cached``: ``StitchedPipeline(memory=<fresh folder>)``;
- ``embed once``: the texts embedded once, then a plain Pipeline (relative step and
  decoder) searched on the codes: the floor.

Each row gives the wall time (the model loaded beforehand, so no setup is counted),
the texts the encoder embedded, the best cross-validated accuracy and the ratio of the
time to embed-once's. Compare times from one run only: the machine's load drifts.
"""

import argparse
import tempfile
import time

from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline

from skrelrep import RelativeTransformer, StitchedPipeline
from skrelrep.datasets import load_fortunes
from skrelrep.encoders import MiniLML6Encoder

TOPICS = (
    "computers",
    "food",
    "law",
    "love",
    "medicine",
    "politics",
    "science",
    "sports",
)
PRESETS = {
    "full": {"topics": TOPICS, "per_topic": 20, "anchors": [10, 20, 40, 80]},
    "quick": {"topics": TOPICS[:3], "per_topic": 6, "anchors": [2, 4]},
}
ENCODED = {"rows": 0}


class CountingMiniLM(MiniLML6Encoder):
    """MiniLM-L6, counting the texts it embeds."""

    def transform(self, X):
        ENCODED["rows"] += len(X)
        return super().transform(X)


def _relative():
    return RelativeTransformer(random_state=0)


def _decoder():
    return LogisticRegression(max_iter=1000)


def _timed(function):
    ENCODED["rows"] = 0
    start = time.perf_counter()
    search = function()
    return time.perf_counter() - start, ENCODED["rows"], search


def run(preset="full"):
    """The three searches; a list of dicts (way, seconds, rows, best score, scores)."""
    config = PRESETS[preset]
    texts, y = load_fortunes(
        list(config["topics"]),
        n_per_topic=config["per_topic"],
        max_chars=300,
        random_state=0,
        return_X_y=True,
    )
    grid = {"relative__n_anchors": config["anchors"]}
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    encoder = CountingMiniLM(device="cpu")
    encoder.transform(["Load the model before anything is timed."])

    def stitched(memory):
        pipe = StitchedPipeline(encoder, _relative(), _decoder(), memory=memory)
        return GridSearchCV(pipe, grid, cv=cv).fit(texts, y)

    def embed_once():
        codes = encoder.fit_transform(texts)
        plain = Pipeline([("relative", _relative()), ("decoder", _decoder())])
        return GridSearchCV(plain, grid, cv=cv).fit(codes, y)

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for way, function in [
            ("uncached", lambda: stitched(None)),
            ("cached", lambda: stitched(folder)),
            ("embed once", embed_once),
        ]:
            seconds, encoded, search = _timed(function)
            rows.append(
                {
                    "way": way,
                    "seconds": seconds,
                    "rows": encoded,
                    "best_score": search.best_score_,
                    "scores": list(search.cv_results_["mean_test_score"]),
                }
            )
    return {"texts": len(texts), "anchors": config["anchors"], "rows": rows}


def to_markdown(result):
    floor = next(row for row in result["rows"] if row["way"] == "embed once")
    lines = [
        f"{result['texts']} texts, n_anchors in {result['anchors']}, cv=3",
        "",
        "| way | seconds | texts encoded | best CV accuracy | time / embed once |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in result["rows"]:
        lines.append(
            f"| {row['way']} | {row['seconds']:.1f} | {row['rows']} | "
            f"{row['best_score']:.3f} | {row['seconds'] / floor['seconds']:.2f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny smoke run")
    args = parser.parse_args(argv)
    print(to_markdown(run("quick" if args.quick else "full")))


if __name__ == "__main__":
    main()
