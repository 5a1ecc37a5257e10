"""Relative vs absolute classifiers trained end to end, and stitched across seeds.

The paper (Moschella et al., 2023) also trains networks with the relative projection
inside them, end to end: encoder, relative layer (cosine to the codes of anchor
inputs, embedded by the same encoder at every step, then a normalisation) and
classification head. It reports that this costs little accuracy against the same
network without the relative layer, and that such networks stitch: the head of one
seed classifies the codes of another seed's encoder with no training, while absolute
networks stitched this way fall to chance. Here both kinds are skorch nets of
:mod:`skrelrep.neural` (:class:`~skrelrep.neural.NeuralEncoder` and
:class:`~skrelrep.neural.RelativeClassifier`) with the same encoder, head, epochs and
optimiser; the relative nets of every seed share the same anchor items (parallel
anchors), and stitching is :meth:`~skrelrep.neural.RelativeClassifier.with_encoder`.
"""

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from ..utils._progress import progress
from ._claims import exceeds, falls_to_chance, far_above_chance, no_better_than
from ._result import MISSING, ExperimentResult
from ._stitching import chance_level

__all__ = [
    "run_training",
    "summarize_training",
    "train_and_stitch",
    "training_findings",
    "training_result",
]

TITLE = "Relative vs absolute networks trained end to end"

#: How much same-model accuracy the relative layer may cost (mean over seeds of
#: absolute minus relative) for "relative training costs little" to hold.
COST_MARGIN = 0.03
#: How much accuracy stitching may lose against the decoder's own encoder (mean over
#: the ordered encoder × decoder pairs) for "relative nets stitch" to hold.
STITCH_LOSS_MARGIN = 0.05
#: Every relative stitched pair must score at least chance plus this.
ABOVE_CHANCE_MARGIN = 0.5
#: Absolute stitching "falls to chance" when its mean is at most chance plus this.
CHANCE_MARGIN = 0.10
#: Relative stitching must beat absolute stitching by this much on average (and in
#: every pair).
ADVANTAGE_MARGIN = 0.5

PUBLISHED_NOTE = (
    "Published: our reference notes record no numbers of the paper's table of "
    "networks trained end to end with and without the relative layer; they say that "
    "the trained heads put a LayerNorm after the relative projection, as here, and "
    "that absolute stitching across different encoders is at chance. The claims are "
    "therefore checked against chance and against the absolute nets, by the rules "
    "stated with each."
)

_SPACES = ("absolute", "relative")


def train_and_stitch(
    X,
    y,
    *,
    dataset,
    seeds=(0, 1, 2),
    n_anchors=300,
    max_epochs=20,
    n_components=32,
    hidden_units=(64,),
    lr=1e-3,
    batch_size=128,
    test_size=0.3,
    random_state=0,
    show_progress=None,
):
    """Train absolute and relative classifiers per seed; score every stitched pair.

    For each seed, a :class:`~skrelrep.neural.NeuralEncoder` (encoder and head on its
    absolute code) and a :class:`~skrelrep.neural.RelativeClassifier` (the same
    encoder and head with a relative layer between them) are trained on the same
    training rows with the same epochs, batch size and Adam learning rate. The
    relative nets of all seeds use the same ``n_anchors`` training rows as anchors
    (drawn once from ``random_state``), so the encoder of one seed embeds the
    decoder's anchor items. Every net's head is then joined with every seed's
    encoder (``with_encoder``, no training) and scored on the held-out rows.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Inputs (scaled to about ``[0, 1]``).
    y : array-like of shape (n_samples,)
        Class labels.
    dataset : str
        Name in the ``dataset`` column.
    seeds : sequence of int, default=(0, 1, 2)
        One absolute and one relative net per seed.
    n_anchors : int, default=300
        Number of anchors (at most the number of training rows).
    max_epochs, n_components, hidden_units, lr, batch_size
        The shared training budget and architecture: epochs, code width, hidden
        layers of both the encoder and the head, learning rate, batch size.
    test_size : float, default=0.3
        Held-out fraction (stratified split).
    random_state : int, default=0
        Seeds the split and the anchors.
    show_progress : bool or None, default=None
        Progress bars (``None``: where a person is watching).

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``dataset, space, encoder, decoder, stitched, accuracy``; the chance
        level of the test labels in ``frame.attrs["chance"]``.
    """
    from ..neural import NeuralEncoder, RelativeClassifier

    X = np.asarray(X, dtype=np.float32)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=random_state
    )
    rng = np.random.RandomState(random_state)
    n_anchors = min(n_anchors, len(X_train))
    anchors = np.sort(rng.choice(len(X_train), size=n_anchors, replace=False))
    common = dict(
        module__n_components=n_components,
        module__hidden_units=tuple(hidden_units),
        head__hidden_units=tuple(hidden_units),
        max_epochs=max_epochs,
        lr=lr,
        batch_size=batch_size,
    )
    nets = {space: {} for space in _SPACES}
    for seed in progress(
        seeds, description=f"end-to-end nets ({dataset})", enabled=show_progress
    ):
        name = f"seed {seed}"
        nets["absolute"][name] = NeuralEncoder(**common, random_state=seed).fit(
            X_train, y_train
        )
        nets["relative"][name] = RelativeClassifier(
            **common,
            n_anchors=n_anchors,
            anchor_selection=anchors,
            random_state=seed,
        ).fit(X_train, y_train)
    rows = []
    for space in _SPACES:
        for decoder_name, decoder in nets[space].items():
            for encoder_name, encoder in nets[space].items():
                stitched = encoder_name != decoder_name
                net = decoder.with_encoder(encoder) if stitched else decoder
                rows.append(
                    {
                        "dataset": dataset,
                        "space": space,
                        "encoder": encoder_name,
                        "decoder": decoder_name,
                        "stitched": stitched,
                        "accuracy": float(net.score(X_test, y_test)),
                    }
                )
    frame = pd.DataFrame(rows)
    frame.attrs["chance"] = chance_level(y_test)
    return frame


def summarize_training(results, chances):
    """Mean ± std of the accuracy per data set × space × same model / stitched.

    Parameters
    ----------
    results : pandas.DataFrame
        The tidy table of :func:`train_and_stitch` (one or more data sets).
    chances : dict of str to float
        The chance level of each data set's test labels.

    Returns
    -------
    summary : pandas.DataFrame
        Columns ``dataset, space, pairs`` ("same model" or "stitched"), ``mean``,
        ``std`` (over seeds or ordered pairs, ``ddof=1``), ``n`` and ``chance``.
    """
    frame = results.assign(
        pairs=np.where(results["stitched"], "stitched", "same model")
    )
    summary = (
        frame.groupby(["dataset", "space", "pairs"], sort=False)["accuracy"]
        .agg(["mean", "std", "count"])
        .reset_index()
        .rename(columns={"count": "n"})
    )
    summary["chance"] = summary["dataset"].map(chances)
    return summary


def training_findings(results, chances):
    """The paper's claims about end-to-end training, checked per data set.

    A pure function of the tidy table, so that a fabricated table can test it.

    Parameters
    ----------
    results : pandas.DataFrame
        Columns ``dataset, space, encoder, decoder, stitched, accuracy``.
    chances : dict of str to float
        The chance level of each data set's test labels.

    Returns
    -------
    findings : list of Finding
        Five per data set: relative training costs little accuracy (paired by seed);
        relative nets stitch far above chance, and close to the decoder's same-model
        accuracy (paired by pair); absolute nets stitched fall to chance; relative
        stitching beats absolute stitching in every pair.
    """
    findings = []
    for dataset, frame in results.groupby("dataset", sort=False):
        chance = chances[dataset]
        same = _same_model(frame)
        pairs = _stitched_pairs(frame)
        same_of_decoder = same["relative"].reindex(
            pairs.index.get_level_values("decoder")
        )
        findings += [
            no_better_than(
                f"{dataset}: training end to end through a relative layer costs "
                "little accuracy (absolute minus relative same-model accuracy, "
                "paired by seed)",
                same["absolute"],
                same["relative"],
                margin=COST_MARGIN,
                names=("absolute", "relative"),
            ),
            far_above_chance(
                f"{dataset}: relative nets trained end to end stitch across seeds "
                "far above chance (head of one seed, encoder of another, zero-shot)",
                pairs["relative"],
                chance,
                margin=ABOVE_CHANCE_MARGIN,
            ),
            no_better_than(
                f"{dataset}: relative stitching keeps the same-model accuracy "
                "(decoder's same-model minus stitched accuracy, paired by "
                "encoder × decoder)",
                same_of_decoder.to_numpy(),
                pairs["relative"].to_numpy(),
                margin=STITCH_LOSS_MARGIN,
                names=("same model", "stitched"),
            ),
            falls_to_chance(
                f"{dataset}: absolute nets trained end to end do not stitch: "
                "stitched accuracy falls to chance",
                pairs["absolute"],
                chance,
                margin=CHANCE_MARGIN,
            ),
            exceeds(
                f"{dataset}: relative stitching beats absolute stitching in every "
                "encoder × decoder pair",
                pairs["relative"],
                pairs["absolute"],
                margin=ADVANTAGE_MARGIN,
                names=("relative", "absolute"),
            ),
        ]
    return findings


def _same_model(frame):
    """Same-model accuracy by seed (rows) and space (columns), both spaces present."""
    same = frame[~frame["stitched"]].pivot(
        index="decoder", columns="space", values="accuracy"
    )
    return same.reindex(columns=list(_SPACES)).dropna()


def _stitched_pairs(frame):
    """Stitched accuracy by (encoder, decoder) and space, pairs of both spaces."""
    pairs = frame[frame["stitched"]].pivot_table(
        index=["encoder", "decoder"], columns="space", values="accuracy"
    )
    return pairs.reindex(columns=list(_SPACES)).dropna()


def training_result(frames, description):
    """The :class:`ExperimentResult` of :func:`train_and_stitch` frames.

    Parameters
    ----------
    frames : list of pandas.DataFrame
        One frame per data set, each with ``attrs["chance"]``.
    description : str
        What was run (Markdown).

    Returns
    -------
    result : ExperimentResult
        Tables ``results`` and ``summary``, a heatmap per data set and a bar chart,
        and the findings of :func:`training_findings`.
    """
    from ._plots import stitching_heatmaps

    chances = {frame["dataset"].iloc[0]: frame.attrs["chance"] for frame in frames}
    results = pd.concat(frames, ignore_index=True)
    summary = summarize_training(results, chances)
    figures = {}
    for frame in frames:
        dataset = frame["dataset"].iloc[0]
        figures[f"training_{_slug(dataset)}_matrix"] = stitching_heatmaps(
            frame.rename(columns={"accuracy": "score"}),
            title=f"{dataset}: nets trained end to end, accuracy of encoder × head",
        )
    figures["training_same_vs_stitched"] = _bar_chart(summary)
    return ExperimentResult(
        name="training",
        title=TITLE,
        description=description + "\n\n" + PUBLISHED_NOTE,
        tables={"results": results, "summary": summary},
        figures=figures,
        findings=training_findings(results, chances),
    )


def _bar_chart(summary):
    """Same-model and stitched accuracy (mean ± std) per data set and space."""
    from ..utils._matplotlib import pyplot

    plt = pyplot()
    datasets = list(dict.fromkeys(summary["dataset"]))
    groups = [
        (space, pairs) for space in _SPACES for pairs in ("same model", "stitched")
    ]
    width = 0.8 / len(groups)
    figure, ax = plt.subplots(figsize=(7, 4.2), constrained_layout=True)
    rows = summary.set_index(["dataset", "space", "pairs"])
    for k, (space, pairs) in enumerate(groups):
        keys = [(dataset, space, pairs) for dataset in datasets]
        stats = rows.reindex(keys)
        ax.bar(
            np.arange(len(datasets)) + (k - (len(groups) - 1) / 2) * width,
            stats["mean"].to_numpy(),
            width,
            yerr=stats["std"].fillna(0).to_numpy(),
            capsize=3,
            label=f"{space}, {pairs}",
        )
    for i, dataset in enumerate(datasets):
        chance = rows.loc[dataset, "chance"].iloc[0]
        ax.hlines(chance, i - 0.45, i + 0.45, colors="black", linestyles="dashed")
    ax.set_xticks(range(len(datasets)), datasets)
    ax.set_ylim(0, 1)
    ax.set_ylabel("test accuracy (dashed: chance)")
    ax.set_title("Trained end to end: same model vs stitched across seeds")
    ax.legend(fontsize=8, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.1))
    return figure


def _settings(quick):
    """Data sizes, seeds and training budget of the full and the quick run."""
    if quick:
        return dict(seeds=3, fashion_samples=2000, n_anchors=200, max_epochs=12)
    return dict(seeds=4, fashion_samples=5000, n_anchors=300, max_epochs=20)


def run_training(*, quick=False, random_state=0, show_progress=None):
    """Absolute vs relative classifiers trained end to end on digits and Fashion-MNIST.

    Per data set and seed, one :class:`~skrelrep.neural.NeuralEncoder` and one
    :class:`~skrelrep.neural.RelativeClassifier` with the same architecture and
    budget (:func:`train_and_stitch`); same-model accuracy of each and zero-shot
    stitched accuracy of every ordered pair of seeds. Fashion-MNIST is skipped with a
    note when it is not installed; without torch and skorch the experiment is skipped.
    """
    from sklearn.datasets import load_digits

    try:
        from .. import neural  # noqa: F401
    except ImportError as exc:
        return ExperimentResult.skip("training", TITLE, exc)
    settings = _settings(quick)
    seeds = tuple(random_state + k for k in range(settings["seeds"]))
    budget = dict(
        seeds=seeds,
        n_anchors=settings["n_anchors"],
        max_epochs=settings["max_epochs"],
        random_state=random_state,
        show_progress=show_progress,
    )
    X, y = load_digits(return_X_y=True)
    frames = [train_and_stitch(X / 16.0, y, dataset="digits", **budget)]
    notes = []
    try:
        from ..datasets import load_fashion_mnist

        X, y = load_fashion_mnist(
            n_samples=settings["fashion_samples"],
            random_state=random_state,
            return_X_y=True,
        )
        frames.append(train_and_stitch(X, y, dataset="fashion-mnist", **budget))
        fashion = f"{settings['fashion_samples']:,} Fashion-MNIST training images"
    except MISSING as exc:
        notes.append(f"Fashion-MNIST skipped: {exc}")
        fashion = None
    data = "the 1,797 scikit-learn digits" + (f" and {fashion}" if fashion else "")
    description = (
        f"On {data} (70% to train, 30% held out, stratified), {len(seeds)} seeds "
        f"({', '.join(map(str, seeds))}) each train two skorch nets end to end with "
        "cross-entropy: a `NeuralEncoder` (MLP encoder, one ReLU hidden layer of 64 "
        "units, 32-d code, then an MLP head with one hidden layer of 64 units) and a "
        "`RelativeClassifier` with the same encoder and head and a relative layer "
        f"between them: cosine to the codes of {settings['n_anchors']} anchor images "
        "(the same training images for every seed: parallel anchors; not centred), "
        "then a LayerNorm. Same budget for both: "
        f"{settings['max_epochs']} epochs, Adam, learning rate 1e-3, batches of 128. "
        "Same model: each net on the test images. Stitched: the head (and, for "
        "relative nets, the relative layer) of seed j on the encoder of seed i ≠ j, "
        "with no training (`with_encoder`). Accuracy; summary mean ± std over seeds "
        "(same model) or ordered pairs (stitched); chance = the majority class of "
        "the test labels."
    )
    if notes:
        description += "\n\n" + "\n".join(f"- {note}" for note in notes)
    return training_result(frames, description)


def _slug(text):
    return "".join(c if c.isalnum() else "_" for c in text.lower()).strip("_")
