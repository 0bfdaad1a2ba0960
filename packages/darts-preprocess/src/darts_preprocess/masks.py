"""Assemble the target ``y`` (0 background, 1 RTS, 2 ignore) from labels and validity masks."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from darts_preprocess.trainset_layout import LABEL_IGNORE

QUALITY_HIGH = 2


def erode(valid: np.ndarray, radius_px: int) -> np.ndarray:
    """Binary erosion of ``valid`` by a disk of ``radius_px`` pixels; outside the array counts as invalid.

    A pixel survives when no invalid pixel lies within Euclidean distance ``radius_px`` — the same
    as erosion with the disk ``{(dy, dx): dy² + dx² <= r²}``, computed with a distance transform so
    the cost does not grow with the radius.
    """
    if radius_px <= 0 or not valid.any():
        return valid.copy()
    padded = np.pad(valid, 1, mode="constant", constant_values=False)
    distance = ndimage.distance_transform_edt(padded)
    return distance[1:-1, 1:-1] > radius_px


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
