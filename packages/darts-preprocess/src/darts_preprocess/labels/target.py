"""Assemble the target ``y`` (0 background, 1 RTS, 2 ignore) from labels and validity masks."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from darts_core.labels import LABEL_IGNORE

QUALITY_HIGH = 2


_ERODE_BLOCK = 96
"""Block size (px) of :func:`erode`: only blocks near an invalid pixel get a distance transform."""


def erode(valid: np.ndarray, radius_px: int) -> np.ndarray:
    """Binary erosion of ``valid`` by a disk of ``radius_px`` pixels; outside the array counts as invalid.

    A pixel survives when no invalid pixel lies within Euclidean distance ``radius_px`` — the same
    as erosion with the disk ``{(dy, dx): dy² + dx² <= r²}``, computed with a distance transform so
    the cost does not grow with the radius. The transform runs only on the blocks that hold valid
    pixels and lie next to an invalid one (each with a margin of ``radius_px``, which holds every
    pixel that close), and the array edge is handled directly: a pixel within ``radius_px`` rows or
    columns of the edge is dropped.
    """
    return _erode_blocks(valid, radius_px, _ERODE_BLOCK)


def _erode_full(valid: np.ndarray, radius_px: int) -> np.ndarray:
    padded = np.pad(valid, 1, mode="constant", constant_values=False)
    distance = ndimage.distance_transform_edt(padded)
    return distance[1:-1, 1:-1] > radius_px


def _erode_blocks(valid: np.ndarray, radius_px: int, block: int) -> np.ndarray:
    if radius_px <= 0 or not valid.any():
        return valid.copy()
    valid = np.asarray(valid, dtype=bool)
    h, w = valid.shape
    r = radius_px
    if 2 * r > block or min(h, w) <= 2 * block:
        return _erode_full(valid, r)
    nby, nbx = -(-h // block), -(-w // block)
    grid = np.zeros((nby * block, nbx * block), dtype=bool)
    grid[:h, :w] = valid
    cells = grid.reshape(nby, block, nbx, block)
    any_valid = cells.any(axis=(1, 3))
    grid[:h, :w] = ~valid
    any_invalid = np.asarray(cells.any(axis=(1, 3)))
    # r < block: a pixel only reaches invalid pixels of its own or the 8 neighbouring blocks
    near_invalid = ndimage.binary_dilation(any_invalid, structure=np.ones((3, 3), dtype=bool))
    todo = near_invalid & any_valid  # small windows stay in cache: faster than one transform of all
    out = valid.copy()
    for by, bx in zip(*np.nonzero(todo), strict=True):
        y0, x0 = by * block, bx * block
        y1, x1 = min(y0 + block, h), min(x0 + block, w)
        wy0, wx0 = max(y0 - r, 0), max(x0 - r, 0)
        window = valid[wy0 : min(y1 + r, h), wx0 : min(x1 + r, w)]
        if window.all():
            continue
        distance = ndimage.distance_transform_edt(window)
        out[y0:y1, x0:x1] &= distance[y0 - wy0 : y1 - wy0, x0 - wx0 : x1 - wx0] > r
    out[:r] = False
    out[h - r :] = False
    out[:, :r] = False
    out[:, w - r :] = False
    return out


def build_target(
    labels: np.ndarray,
    quality: np.ndarray,
    inside_footprint: np.ndarray,
    x_nan: np.ndarray,
    dem_valid: np.ndarray | None = None,
    erosion_px: int = 0,
) -> np.ndarray:
    """Target ``y`` uint8 [h, w].

    ``labels`` is the burned mask (0/1). ``y`` is 2 where quality < 2 (invalid or low), outside the
    footprint, within ``erosion_px`` of either (the eroded border), where the DEM has no data
    (``dem_valid`` False; None when no DEM band is used) and where any band of x is NaN.
    """
    good = (quality >= QUALITY_HIGH) & inside_footprint
    keep = erode(good, erosion_px)
    if dem_valid is not None:
        keep &= dem_valid
    keep &= ~x_nan
    y = np.where(keep, labels.astype(np.uint8, copy=False), np.uint8(LABEL_IGNORE))
    return y.astype(np.uint8, copy=False)
