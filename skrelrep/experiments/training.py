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

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from ..utils._progress import progress
from ._claims import exceeds, falls_to_chance, far_above_chance, no_better_than
from ._spec import ExperimentSpec
from ._stitching import chance_level

__all__ = [
    "SPEC",
    "TrainingSettings",
    "score_nets",
    "summarize_training",
    "train_nets",
    "training_findings",
]

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


@dataclass
class TrainedNets:
    """The absolute and relative nets by space and seed name, and the test rows."""

    dataset: str
    nets: dict
    X_test: np.ndarray
    y_test: np.ndarray


def train_nets(
    X,
    y,
    *,
    dataset,
    seeds,
    n_anchors,
    max_epochs,
    n_components=32,
    hidden_units=(64,),
    lr=1e-3,
    batch_size=128,
    test_size=0.3,
    random_state=0,
    show_progress=None,
):
    """Train an absolute and a relative classifier per seed; keep the held-out rows.

    For each seed, a :class:`~skrelrep.neural.NeuralEncoder` (encoder and head on its
    absolute code) and a :class:`~skrelrep.neural.RelativeClassifier` (the same
    encoder and head with a relative layer between them) are trained on the same
    training rows with the same epochs, batch size and Adam learning rate. The
    relative nets of all seeds use the same ``n_anchors`` training rows as anchors
    (drawn once from ``random_state``), so the encoder of one seed embeds the
    decoder's anchor items. :func:`score_nets` then scores every pair.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Inputs (scaled to about ``[0, 1]``).
    y : array-like of shape (n_samples,)
        Class labels.
    dataset : str
        Name in the ``dataset`` column.
    seeds : sequence of int
        One absolute and one relative net per seed.
    n_anchors : int
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
    trained : TrainedNets
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
    return TrainedNets(dataset, nets, X_test, y_test)


def score_nets(trained):
    """Every net's head joined with every seed's encoder (``with_encoder``, no
    training), scored on the held-out rows.

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``dataset, space, encoder, decoder, stitched, accuracy``; the chance
        level of the test labels in ``frame.attrs["chance"]``.
    """
    rows = []
    for space in _SPACES:
        for decoder_name, decoder in trained.nets[space].items():
            for encoder_name, encoder in trained.nets[space].items():
                stitched = encoder_name != decoder_name
                net = decoder.with_encoder(encoder) if stitched else decoder
                rows.append(
                    {
                        "dataset": trained.dataset,
                        "space": space,
                        "encoder": encoder_name,
                        "decoder": decoder_name,
                        "stitched": stitched,
                        "accuracy": float(net.score(trained.X_test, trained.y_test)),
                    }
                )
    frame = pd.DataFrame(rows)
    frame.attrs["chance"] = chance_level(trained.y_test)
    return frame


def summarize_training(results, chances):
    """Mean ± std of the accuracy per data set × space × same model / stitched.

    Parameters
    ----------
    results : pandas.DataFrame
        The tidy table of :func:`score_nets` (one or more data sets).
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


# -- the spec: settings, steps and report text ------------------------------------------


@dataclass(frozen=True)
class TrainingSettings:
    """Settings of the training experiment: ``n_seeds`` seeds (offsets to the run's
    ``random_state``), ``fashion_samples`` Fashion-MNIST images, ``n_anchors``
    anchors and ``max_epochs`` epochs for every net."""

    n_seeds: int
    fashion_samples: int
    n_anchors: int
    max_epochs: int


DESCRIPTION = """\
On {data} (70% to train, 30% held out, stratified), {n_seeds} seeds ({seeds}) each \
train two skorch nets end to end with cross-entropy: a `NeuralEncoder` (MLP encoder, \
one ReLU hidden layer of 64 units, 32-d code, then an MLP head with one hidden layer \
of 64 units) and a `RelativeClassifier` with the same encoder and head and a relative \
layer between them: cosine to the codes of {n_anchors} anchor images (the same \
training images for every seed: parallel anchors; not centred), then a LayerNorm. \
Same budget for both: {max_epochs} epochs, Adam, learning rate 1e-3, batches of 128. \
Same model: each net on the test images. Stitched: the head (and, for relative nets, \
the relative layer) of seed j on the encoder of seed i ≠ j, with no training \
(`with_encoder`). Accuracy; summary mean ± std over seeds (same model) or ordered \
pairs (stitched); chance = the majority class of the test labels.

{published}"""


def _seeds(run):
    return tuple(run.random_state + k for k in range(run.settings.n_seeds))


def _load(run):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    data = {"digits": (X / 16.0, y)}
    fashion = run.optional("Fashion-MNIST", _fashion, run)
    if fashion is not None:
        data["fashion-mnist"] = fashion
    return data


def _fashion(run):
    from ..datasets import load_fashion_mnist

    return load_fashion_mnist(
        n_samples=run.settings.fashion_samples,
        random_state=run.random_state,
        return_X_y=True,
    )


def _encode(data, run):
    """The nets of every data set (torch and skorch are needed from here on)."""
    return [
        train_nets(
            X,
            y,
            dataset=dataset,
            seeds=_seeds(run),
            n_anchors=run.settings.n_anchors,
            max_epochs=run.settings.max_epochs,
            random_state=run.random_state,
            show_progress=run.show_progress,
        )
        for dataset, (X, y) in data.items()
    ]


def _measure(trained, run):
    return [score_nets(nets) for nets in trained]


def _chances(frames):
    return {frame["dataset"].iloc[0]: frame.attrs["chance"] for frame in frames}


def _claims(frames):
    return training_findings(pd.concat(frames, ignore_index=True), _chances(frames))


def _tables(frames):
    results = pd.concat(frames, ignore_index=True)
    return {
        "results": results,
        "summary": summarize_training(results, _chances(frames)),
    }


def _figures(frames):
    from ._plots import bar_chart, stitching_heatmaps

    figures = {}
    for frame in frames:
        dataset = frame["dataset"].iloc[0]
        figures[f"{dataset} matrix"] = stitching_heatmaps(
            frame.rename(columns={"accuracy": "score"}),
            title=f"{dataset}: nets trained end to end, accuracy of encoder × head",
        )
    results = pd.concat(frames, ignore_index=True)
    figures["same vs stitched"] = bar_chart(
        summarize_training(results, _chances(frames)), spaces=_SPACES
    )
    return figures


def _describe(frames, run):
    datasets = [frame["dataset"].iloc[0] for frame in frames]
    data = "the 1,797 scikit-learn digits"
    if "fashion-mnist" in datasets:
        data += f" and {run.settings.fashion_samples:,} Fashion-MNIST training images"
    seeds = _seeds(run)
    return DESCRIPTION.format(
        data=data,
        n_seeds=len(seeds),
        seeds=", ".join(map(str, seeds)),
        n_anchors=run.settings.n_anchors,
        max_epochs=run.settings.max_epochs,
        published=PUBLISHED_NOTE,
    )


#: Absolute vs relative classifiers trained end to end on digits and Fashion-MNIST:
#: same-model accuracy of each and zero-shot stitched accuracy of every ordered pair
#: of seeds. Fashion-MNIST is left out with a note when it is not installed; without
#: torch and skorch the experiment is skipped.
SPEC = ExperimentSpec(
    name="training",
    title="Relative vs absolute networks trained end to end",
    quick=TrainingSettings(
        n_seeds=3, fashion_samples=2000, n_anchors=200, max_epochs=12
    ),
    full=TrainingSettings(
        n_seeds=4, fashion_samples=5000, n_anchors=300, max_epochs=20
    ),
    load=_load,
    encode=_encode,
    measure=_measure,
    claims=_claims,
    describe=_describe,
    tables=_tables,
    figures=_figures,
)
