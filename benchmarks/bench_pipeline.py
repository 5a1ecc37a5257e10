"""``fit`` and ``transform``/``predict`` of a full StitchedPipeline, beside its parts.

Usage, from the repository root::

    .venv/bin/python -m benchmarks.bench_pipeline                 # about a minute
    .venv/bin/python -m benchmarks.bench_pipeline --rows 100000 --features 768

An encoder (PCA to 128 dimensions), a RelativeTransformer (``--anchors`` random,
centred anchors) and a logistic regression decoder, on synthetic class-structured data.
Measured side by side in one process, best of ``--repeats``:

- ``StitchedPipeline.fit`` against a plain :class:`~sklearn.pipeline.Pipeline` of the
  same three steps (the composition overhead), and against the absolute baseline
  (``relative="passthrough"``: what the projection adds);
- ``predict`` of the same three;
- ``stitch()`` of two fitted pipelines (re-embedding the anchors, nothing refitted).

Wall time on a shared machine depends on its load: compare numbers from one run only.
"""

import argparse
import time

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from skrelrep import RelativeTransformer, StitchedPipeline, stitch


def _best_of(repeats, function):
    best, value = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - start)
    return best, value


def _data(rows, features, classes, seed=0):
    rng = np.random.RandomState(seed)
    centers = rng.normal(size=(classes, features)).astype(np.float32) * 2
    y = rng.randint(classes, size=rows)
    X = centers[y] + rng.normal(size=(rows, features)).astype(np.float32)
    return X, y


def run(rows=20_000, features=256, anchors=300, classes=10, repeats=3):
    """Time the pipeline; returns a list of ``(what, seconds)`` rows."""
    X, y = _data(rows, features, classes)

    width = min(128, features)

    def steps(relative):
        return (
            PCA(width, random_state=0),
            relative,
            LogisticRegression(max_iter=300),
        )

    relative = RelativeTransformer(anchors, center=True, random_state=0)
    timings = []
    fit_stitched, stitched = _best_of(
        repeats, lambda: StitchedPipeline(*steps(relative)).fit(X, y)
    )
    fit_plain, plain = _best_of(
        repeats,
        lambda: Pipeline(
            list(zip(("encoder", "relative", "decoder"), steps(relative), strict=True))
        ).fit(X, y),
    )
    fit_absolute, absolute = _best_of(
        repeats, lambda: StitchedPipeline(*steps("passthrough")).fit(X, y)
    )
    timings += [
        ("fit: StitchedPipeline", fit_stitched),
        ("fit: plain Pipeline, same steps", fit_plain),
        ("fit: absolute baseline (passthrough)", fit_absolute),
    ]
    for name, model in [
        ("predict: StitchedPipeline", stitched),
        ("predict: plain Pipeline, same steps", plain),
        ("predict: absolute baseline (passthrough)", absolute),
    ]:
        timings.append(
            (name, _best_of(repeats, lambda model=model: model.predict(X))[0])
        )
    other = StitchedPipeline(
        PCA(width, whiten=True, random_state=1),
        relative,
        LogisticRegression(max_iter=300),
    ).fit(X, y)
    timings.append(
        (
            "stitch(): re-embed anchors",
            _best_of(repeats, lambda: stitch(other, stitched))[0],
        )
    )
    return timings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--features", type=int, default=256)
    parser.add_argument("--anchors", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    timings = run(args.rows, args.features, args.anchors, repeats=args.repeats)
    reference = dict(timings)
    print(
        f"X: {args.rows} x {args.features} float32, {args.anchors} anchors, PCA({min(128, args.features)})"
    )
    print("| step | seconds | ratio to the plain Pipeline |")
    print("| --- | --- | --- |")
    for what, seconds in timings:
        base = reference.get(what.split(":")[0] + ": plain Pipeline, same steps")
        ratio = "" if base is None else f"{seconds / base:.2f}"
        print(f"| {what} | {seconds:.3f} | {ratio} |")


if __name__ == "__main__":
    main()
