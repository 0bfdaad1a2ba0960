"""Whole-scene inference for `darts quickstart`: engineer one scene's bands, segment, score, save."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

PROBABILITY_THRESHOLD = 0.5


def physical_scene(prep: Any, scene_id: str, bands: tuple[str, ...]) -> Any:
    """The scene ``scene_id`` as a Dataset of physical band values (what preprocessing computes).

    ``prep`` is the preprocessing config (paths, TPI radii). Reads only local files: the ArcticDEM
    and TCVIS caches the generator filled.
    """
    from darts_preprocess.bands import BANDS, BandKind
    from darts_preprocess.engineering import engineer_bands
    from darts_preprocess.errors import DartsInputError
    from darts_preprocess.sources.planet import discover_planet_scenes, load_planet_scene

    refs = [ref for ref in discover_planet_scenes(prep.data_dir).scenes if ref.scene_id == scene_id]
    if not refs:
        raise DartsInputError(f"scene {scene_id} not found under {prep.data_dir}")
    scene = load_planet_scene(refs[0])
    kinds = {BANDS[b].kind for b in bands}
    dem = tcvis = None
    if BandKind.TERRAIN in kinds:
        from darts_preprocess.sources.arcticdem import load_arcticdem

        dem = load_arcticdem(scene.odc.geobox, prep.arcticdem_dir, prep.tpi_outer_radius, remote=None)
    if BandKind.TCVIS in kinds:
        from darts_preprocess.sources.tcvis import load_tcvis

        tcvis = load_tcvis(scene.odc.geobox, prep.tcvis_dir, remote=None)
    values = engineer_bands(
        scene, dem, tcvis, bands, float(prep.tpi_outer_radius), float(prep.tpi_inner_radius)
    )
    return scene.assign({band: (("y", "x"), value) for band, value in values.items()})


def scene_target(train_data_dir: Path, split: str, scene_id: str, shape: tuple[int, int]) -> np.ndarray:
    """The training set's labels of one scene, put back together from its patches (uint8 0/1/2).

    Pixels no patch covers are 2 (ignored), as are the pixels preprocessing ignored (no data, low
    quality, outside the footprint, the eroded border), so a score over ``!= 2`` counts exactly
    the pixels that test-smp counts.
    """
    from darts_dataset import TrainingSet
    from darts_preprocess.trainset_layout import Y_ARRAY, group_array

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


def segment_test_scene(
    model_file: Path, prep: Any, scene_id: str, out_dir: Path, patch_size: int
) -> tuple[Path, float | None]:
    """Segment one scene with the deployable model; write a probability GeoTIFF; IoU against its labels.

    The IoU counts the pixels the training set's ``test`` split counts (its labels, put back
    together); None when neither the labels nor the prediction hold any RTS there.
    """
    from darts_cli.quickstart_steps import iou
    from darts_models import load_deployable_checkpoint, segment_scene

    loaded = load_deployable_checkpoint(model_file, "cpu")
    bands = tuple(loaded.config.input_combination)
    scene = physical_scene(prep, scene_id, bands)
    probabilities = segment_scene(
        loaded, scene, patch_size=patch_size, overlap=patch_size // 4, batch_size=8, device="cpu"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{scene_id}_probabilities.tif"
    tmp = path.with_name(f".{path.stem}.partial.tif")
    probabilities.rio.to_raster(tmp)
    tmp.replace(path)
    probs = np.asarray(probabilities.values)
    target = scene_target(prep.train_data_dir, "test", scene_id, probs.shape)
    valid = ~np.isnan(probs) & (target != 2)
    score = iou(np.nan_to_num(probs) >= PROBABILITY_THRESHOLD, target == 1, valid)
    shown = "n/a" if score is None else f"{score:.3f}"
    logger.info("segmented scene %s -> %s (IoU %s)", scene_id, path, shown)
    return path, score
