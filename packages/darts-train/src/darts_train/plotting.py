"""Sample plots of a patch: input composite, TP/FP/FN overlay, probability map, other bands.

No band is required: an RGB composite is drawn when red, green and blue are present, otherwise the
first band in grey. Figures are built without pyplot (no global state) and saved atomically.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from darts_core.atomic import atomic_path
from darts_core.labels import LABEL_IGNORE, LABEL_RTS

_RGB = ("red", "green", "blue")
_OVERLAY = ListedColormap(["#00000000", "#2ca02c", "#d62728", "#1f77b4", "#7f7f7f"])
"""0 nothing, 1 true positive, 2 false positive, 3 false negative, 4 ignored."""
_COLS = 4


def _stretch(channel: np.ndarray) -> np.ndarray:
    finite = channel[np.isfinite(channel)]
    if finite.size == 0:
        return np.zeros_like(channel)
    lo, hi = np.percentile(finite, (2, 98))
    return np.clip((channel - lo) / max(hi - lo, 1e-6), 0, 1)


def composite(x: np.ndarray, bands: Sequence[str]) -> tuple[np.ndarray, str]:
    """An RGB image [h, w, 3] from ``x`` [c, h, w]: true colour if possible, else the first band."""
    if all(b in bands for b in _RGB):
        rgb = np.stack([_stretch(x[list(bands).index(b)]) for b in _RGB], axis=-1)
        return rgb, "RGB"
    grey = _stretch(x[0])
    return np.stack([grey] * 3, axis=-1), str(bands[0])


def overlay_classes(pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per pixel: 1 TP, 2 FP, 3 FN, 4 ignored, 0 true negative."""
    target = y == LABEL_RTS
    out = np.zeros(y.shape, dtype=np.uint8)
    out[pred & target] = 1
    out[pred & ~target] = 2
    out[~pred & target] = 3
    out[y == LABEL_IGNORE] = 4
    return out


def plot_sample(
    x: np.ndarray,
    y: np.ndarray,
    prob: np.ndarray,
    bands: Sequence[str],
    title: str = "",
    threshold: float = 0.5,
) -> Figure:
    """One figure for one patch: ``x`` [c, h, w], ``y`` [h, w] in {0, 1, 2}, ``prob`` [h, w] in [0, 1]."""
    bands = list(bands)
    base, base_name = composite(x, bands)
    shown = {bands.index(b) for b in _RGB} if base_name == "RGB" else {0}
    others = [i for i in range(len(bands)) if i not in shown]
    rows = 1 + math.ceil(len(others) / _COLS)
    fig = Figure(figsize=(4 * _COLS, 4 * rows), layout="constrained")
    axes = fig.subplots(rows, _COLS, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    axes[0, 0].imshow(base)
    axes[0, 0].set_title(base_name)
    label = np.ma.masked_where(y != LABEL_RTS, np.ones(y.shape))
    axes[0, 1].imshow(base)
    axes[0, 1].imshow(label, cmap="Reds", vmin=0, vmax=1, alpha=0.5, interpolation="nearest")
    axes[0, 1].set_title("label")
    axes[0, 2].imshow(base)
    overlay = overlay_classes(prob > threshold, y)
    axes[0, 2].imshow(overlay, cmap=_OVERLAY, vmin=0, vmax=4, interpolation="nearest", alpha=0.7)
    axes[0, 2].set_title("prediction")
    axes[0, 2].legend(
        handles=[
            Patch(color=_OVERLAY(i), label=n) for i, n in ((1, "TP"), (2, "FP"), (3, "FN"), (4, "ignored"))
        ],
        loc="lower right",
        fontsize="small",
    )
    im = axes[0, 3].imshow(prob, cmap="magma", vmin=0, vmax=1)
    axes[0, 3].set_title("probability")
    fig.colorbar(im, ax=axes[0, 3], fraction=0.046)
    for k, i in enumerate(others):
        ax = axes[1 + k // _COLS, k % _COLS]
        ax.imshow(x[i], cmap="viridis")
        ax.set_title(bands[i])
    if title:
        fig.suptitle(title)
    return fig


def save_figure(fig: Figure, path: Path, dpi: int = 80) -> Path:
    """Write ``fig`` as PNG atomically (temp name, then rename)."""
    path = Path(path)
    FigureCanvasAgg(fig)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    return path
