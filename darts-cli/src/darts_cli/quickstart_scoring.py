"""Scoring of `darts quickstart`'s segmented test scene against the labels of its training set."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from darts_core.labels import LABEL_IGNORE, LABEL_RTS

NODATA = 255


def scene_target(train_data_dir: Path, split: str, scene_id: str, shape: tuple[int, int]) -> np.ndarray:
    """The training set's labels of one scene, put back together from its patches (uint8 0/1/2).

    Pixels no patch covers are 2 (ignored), as are the pixels preprocessing ignored (no data, low
    quality, outside the footprint, the eroded border), so a score over ``!= LABEL_IGNORE`` counts exactly
    the pixels that test-smp counts.
    """
    from darts_core.trainset_layout import Y_ARRAY, group_array
    from darts_dataset import TrainingSet

    training_set = TrainingSet(train_data_dir)
    meta = training_set.split_metadata(split)
    y = group_array(training_set.open_split(split), Y_ARRAY)
    target = np.full(shape, 2, dtype=np.uint8)
    if meta.scene_ids is None or meta.patch_row is None or meta.patch_col is None:
        return target
    for index in np.flatnonzero(meta.scene_ids == scene_id):
        patch = np.asarray(y[int(index)])
        row, col = int(meta.patch_row[index]), int(meta.patch_col[index])
        h, w = min(patch.shape[0], shape[0] - row), min(patch.shape[1], shape[1] - col)
        target[row : row + h, col : col + w] = patch[:h, :w]
    return target


def binarized_iou(binarized_tif: Path, train_data_dir: Path, split: str, scene_id: str) -> float | None:
    """IoU of a ``binarized.tif`` (1 RTS, 0 not, 255 no data) against the scene's training labels.

    Counts the pixels both the map (not no-data) and the labels (not 2) count; None when neither
    holds any RTS there.
    """
    import rasterio

    from darts_cli.quickstart_steps import iou

    with rasterio.open(binarized_tif) as src:
        binarized = src.read(1)
    target = scene_target(train_data_dir, split, scene_id, binarized.shape)
    valid = (binarized != NODATA) & (target != LABEL_IGNORE)
    return iou(binarized == 1, target == LABEL_RTS, valid)
