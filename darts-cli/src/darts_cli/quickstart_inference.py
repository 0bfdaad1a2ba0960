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


def label_mask(train_data_dir: Path, scene_id: str, scene: Any) -> np.ndarray:
    """The training set's label polygons of ``scene_id`` burned onto the scene grid (bool)."""
    import geopandas as gpd
    from rasterio.features import rasterize

    labels = gpd.read_file(train_data_dir / "labels.geojson")
    labels = labels[labels["image_id"] == scene_id]
    grid = scene.odc.geobox
    if labels.empty:
        return np.zeros(grid.shape.yx, dtype=bool)
    shapes = [(g, 1) for g in labels.to_crs(grid.crs.to_wkt()).geometry if g is not None and not g.is_empty]
    burned = rasterize(shapes, out_shape=grid.shape.yx, transform=grid.affine, dtype="uint8")
    return burned.astype(bool)


def segment_test_scene(
    model_file: Path, prep: Any, scene_id: str, out_dir: Path, patch_size: int
) -> tuple[Path, float | None]:
    """Segment one scene with the deployable model; write a probability GeoTIFF; IoU against its labels.

    The IoU counts only high-quality pixels (udm2 clear) with a prediction; None when neither the
    labels nor the prediction hold any RTS there.
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
    valid = ~np.isnan(probs) & (np.asarray(scene["quality"].values) == 2)
    target = label_mask(prep.train_data_dir, scene_id, scene)
    score = iou(np.nan_to_num(probs) >= PROBABILITY_THRESHOLD, target, valid)
    shown = "n/a" if score is None else f"{score:.3f}"
    logger.info("segmented scene %s -> %s (IoU %s)", scene_id, path, shown)
    return path, score
