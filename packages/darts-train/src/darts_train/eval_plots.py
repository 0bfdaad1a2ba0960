"""Evaluation figures: confusion matrix, ROC curve and precision-recall curve."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def confusion_matrix_figure(matrix: np.ndarray, title: str) -> Figure:
    """``matrix`` [[tn, fp], [fn, tp]] as counts and row-normalised fractions."""
    matrix = np.asarray(matrix, dtype=np.float64)
    fig = Figure(figsize=(5, 4.5), layout="constrained")
    ax = fig.subplots()
    rows = matrix.sum(axis=1, keepdims=True)
    fraction = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0)
    im = ax.imshow(fraction, cmap="Blues", vmin=0, vmax=1)
    for (i, j), count in np.ndenumerate(matrix):
        colour = "white" if fraction[i, j] > 0.5 else "black"
        ax.text(j, i, f"{int(count):,}\n{fraction[i, j]:.1%}", ha="center", va="center", color=colour)
    ax.set_xticks([0, 1], ["background", "RTS"])
    ax.set_yticks([0, 1], ["background", "RTS"])
    ax.set_xlabel("predicted")
    ax.set_ylabel("label")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.046, label="fraction of label row")
    return fig


def _curve_figure(
    x: np.ndarray,
    y: np.ndarray,
    label: str,
    axes: tuple[str, str],
    title: str,
    legend: Literal["lower right", "lower left"],
) -> tuple[Figure, Axes]:
    """A square 0..1 line plot of ``y`` over ``x`` (ROC and precision-recall curves share it)."""
    fig = Figure(figsize=(5, 5), layout="constrained")
    ax = fig.subplots()
    ax.plot(x, y, label=label)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel(axes[0])
    ax.set_ylabel(axes[1])
    ax.set_title(title)
    ax.legend(loc=legend)
    return fig, ax


def roc_figure(fpr: np.ndarray, tpr: np.ndarray, auroc: float, title: str) -> Figure:
    """ROC curve with the chance diagonal."""
    axes = ("false positive rate", "true positive rate")
    fig, ax = _curve_figure(fpr, tpr, f"AUROC {auroc:.3f}", axes, title, "lower right")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)
    return fig


def pr_figure(precision: np.ndarray, recall: np.ndarray, average_precision: float, title: str) -> Figure:
    """Precision-recall curve."""
    label = f"AP {average_precision:.3f}"
    return _curve_figure(recall, precision, label, ("recall", "precision"), title, "lower left")[0]
