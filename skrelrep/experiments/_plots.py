"""Figures of the experiments (matplotlib, imported lazily: the "report" extra)."""

import numpy as np

from ..utils._matplotlib import pyplot as _pyplot

__all__ = ["line_plot", "stitching_heatmaps"]


def stitching_heatmaps(frame, *, title):
    """Absolute and relative stitching matrices side by side (encoder × decoder)."""
    plt = _pyplot()
    spaces = ["absolute", "relative"]
    figure, axes = plt.subplots(1, 2, figsize=(10, 4.3), constrained_layout=True)
    for ax, space in zip(axes, spaces, strict=True):
        matrix = frame[frame["space"] == space].pivot(
            index="encoder", columns="decoder", values="score"
        )
        image = ax.imshow(matrix.to_numpy(), vmin=0, vmax=1, cmap="viridis")
        ax.set_xticks(range(matrix.shape[1]), matrix.columns, rotation=45, ha="right")
        ax.set_yticks(range(matrix.shape[0]), matrix.index)
        ax.set_xlabel("decoder trained on")
        ax.set_ylabel("encoder")
        ax.set_title(f"{space} codes")
        for (i, j), value in np.ndenumerate(matrix.to_numpy()):
            ax.text(
                j,
                i,
                f"{value:.2f}",
                ha="center",
                va="center",
                color="white" if value < 0.5 else "black",
                fontsize=8,
            )
    figure.colorbar(image, ax=axes, shrink=0.8, label="accuracy")
    figure.suptitle(title)
    return figure


def line_plot(frame, *, x, y, hue, title, xlabel, ylabel, logx=False, errorbars=None):
    """One line per value of ``hue`` (mean over repeated rows, optional std bars)."""
    plt = _pyplot()
    figure, ax = plt.subplots(figsize=(6.5, 4.2), constrained_layout=True)
    for name, group in frame.groupby(hue, sort=False):
        stats = group.groupby(x)[y].agg(["mean", "std"]).reset_index()
        ax.errorbar(
            stats[x],
            stats["mean"],
            yerr=stats["std"].fillna(0) if errorbars else None,
            marker="o",
            capsize=3,
            label=str(name),
        )
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return figure
