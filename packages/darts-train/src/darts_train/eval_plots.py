"""Evaluation figures: confusion matrix, ROC curve and precision-recall curve."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure


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


def roc_figure(fpr: np.ndarray, tpr: np.ndarray, auroc: float, title: str) -> Figure:
    fig = Figure(figsize=(5, 5), layout="constrained")
    ax = fig.subplots()
    ax.plot(fpr, tpr, label=f"AUROC {auroc:.3f}")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title)
    ax.legend(loc="lower right")
    return fig


def pr_figure(precision: np.ndarray, recall: np.ndarray, average_precision: float, title: str) -> Figure:
    fig = Figure(figsize=(5, 5), layout="constrained")
    ax = fig.subplots()
    ax.plot(recall, precision, label=f"AP {average_precision:.3f}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title(title)
    ax.legend(loc="lower left")
    return fig
