"""Cut a scene into overlapping patches and filter them.

Origins along each axis are ``0, step, 2·step, …`` with ``step = patch_size - overlap``; the last
patch is shifted back so it ends exactly at the edge. A scene smaller than a patch is padded
(x = 0, y = 2) to one patch. Filters, in order, each counting the patches it removes:

1. ``exclude_nopositive``: no RTS pixel;
2. ``exclude_nan``: any no-data pixel inside the image (padding is not no-data);
3. ``min_valid``: fewer than 10 % of the pixels are not ignored (y != LABEL_IGNORE);
4. ``all_nan``: every pixel inside the image is no-data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from rasterio.transform import Affine

from darts_core.errors import DartsInputError
from darts_core.labels import LABEL_IGNORE, LABEL_RTS

MIN_VALID_FRACTION = 0.1
FILTERS: tuple[str, ...] = ("exclude_nopositive", "exclude_nan", "min_valid", "all_nan")


def check_patch_geometry(patch_size: int, overlap: int) -> None:
    """Raise unless ``0 <= overlap < patch_size``."""
    if patch_size <= 0 or overlap < 0 or overlap >= patch_size:
        raise DartsInputError(
            f"patch_size {patch_size} and overlap {overlap}: patch_size must be positive and exceed overlap"
        )


def patch_origins(length: int, patch_size: int, overlap: int) -> list[int]:
    """Start offsets along one axis of ``length`` pixels (``[0]`` when the axis is shorter than a patch)."""
    check_patch_geometry(patch_size, overlap)
    if length <= patch_size:
        return [0]
    step = patch_size - overlap
    origins = list(range(0, length - patch_size + 1, step))
    if origins[-1] + patch_size < length:
        origins.append(length - patch_size)
    return origins


@dataclass
class ScenePatches:
    """Kept patches of one scene plus per-filter removal counts."""

    x: np.ndarray
    """float32 [n, c, s, s] in [0, 1], NaN replaced by 0."""
    y: np.ndarray
    """uint8 [n, s, s]."""
    rows: np.ndarray
    cols: np.ndarray
    geotransforms: np.ndarray
    """float64 [n, 6]: affine (a, b, c, d, e, f) of each patch."""
    n_candidates: int
    removed: dict[str, int] = field(default_factory=dict)


def _pad(
    x: np.ndarray, y: np.ndarray, nan: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    h, w = y.shape
    ph, pw = max(0, size - h), max(0, size - w)
    if ph == 0 and pw == 0:
        return x, y, nan
    x = np.pad(x, ((0, 0), (0, ph), (0, pw)), constant_values=0.0)
    y = np.pad(y, ((0, ph), (0, pw)), constant_values=LABEL_IGNORE)
    nan = np.pad(nan, ((0, ph), (0, pw)), constant_values=False)
    return x, y, nan


def _removal_reason(
    y: np.ndarray, nan: np.ndarray, inside: int, exclude_nopositive: bool, exclude_nan: bool
) -> str | None:
    if exclude_nopositive and not (y == LABEL_RTS).any():
        return "exclude_nopositive"
    n_nan = int(nan.sum())
    if exclude_nan and n_nan:
        return "exclude_nan"
    if (y != LABEL_IGNORE).sum() < MIN_VALID_FRACTION * y.size:
        return "min_valid"
    if n_nan == inside:
        return "all_nan"
    return None


def make_patches(
    x: np.ndarray,
    y: np.ndarray,
    nan: np.ndarray,
    transform: Affine,
    patch_size: int,
    overlap: int,
    exclude_nopositive: bool = False,
    exclude_nan: bool = True,
) -> ScenePatches:
    """Patch a scene: ``x`` float32 [c, h, w] (NaN allowed), ``y`` uint8 [h, w], ``nan`` bool [h, w].

    ``nan`` marks pixels where any band of x is no-data. Kept patches have NaN replaced by 0.
    """
    h, w = y.shape
    rows = patch_origins(h, patch_size, overlap)
    cols = patch_origins(w, patch_size, overlap)
    x, y, nan = _pad(x, y, nan, patch_size)
    removed = dict.fromkeys(FILTERS, 0)
    keep: list[tuple[int, int]] = []
    for r in rows:
        for c in cols:
            inside = min(patch_size, h - r) * min(patch_size, w - c)
            reason = _removal_reason(
                y[r : r + patch_size, c : c + patch_size],
                nan[r : r + patch_size, c : c + patch_size],
                inside,
                exclude_nopositive,
                exclude_nan,
            )
            if reason is None:
                keep.append((r, c))
            else:
                removed[reason] += 1
    n, s = len(keep), patch_size
    px = np.empty((n, x.shape[0], s, s), dtype=np.float32)
    py = np.empty((n, s, s), dtype=np.uint8)
    gts = np.empty((n, 6), dtype=np.float64)
    for i, (r, c) in enumerate(keep):
        px[i] = x[:, r : r + s, c : c + s]
        py[i] = y[r : r + s, c : c + s]
        gts[i] = tuple(transform @ Affine.translation(c, r))[:6]
        if nan[r : r + s, c : c + s].any():  # NaN only where the no-data mask says so
            np.putmask(px[i], np.isnan(px[i]), np.float32(0.0))
    return ScenePatches(
        x=px,
        y=py,
        rows=np.array([r for r, _ in keep], dtype=np.int32),
        cols=np.array([c for _, c in keep], dtype=np.int32),
        geotransforms=gts,
        n_candidates=len(rows) * len(cols),
        removed=removed,
    )
