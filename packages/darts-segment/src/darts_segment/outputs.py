"""One scene's output folder: the files, their encodings, and when the folder counts as finished.

``output_dir/<scene id>/``:

- ``probabilities.tif``: uint8 0..100 (percent, rounded), nodata 255 where the scene has no valid data;
- ``binarized.tif``: uint8 1 where probability >= threshold, else 0; nodata 255 likewise;
- ``polygons.gpkg``: layer ``polygons``, one polygon per connected RTS region (see :mod:`.polygons`);
- ``extent.gpkg``: layer ``extent``, the valid-data footprint;
- ``run.json``: models and their SHA-256, options, versions, timings; written last.

Both GeoTIFFs are Cloud-Optimized GeoTIFFs on the scene's own grid and CRS. Every file is written
atomically; a folder is finished exactly when ``run.json`` exists.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine
from pyproj import CRS

from darts_segment.polygons import probability_polygons, valid_extent
from darts_segment.writers import NODATA, remove_partial_files, write_cog, write_gpkg, write_json

PROBABILITIES, BINARIZED = "probabilities.tif", "binarized.tif"
POLYGONS, EXTENT, RUN_RECORD = "polygons.gpkg", "extent.gpkg", "run.json"
OUTPUT_FILES: tuple[str, ...] = (PROBABILITIES, BINARIZED, POLYGONS, EXTENT, RUN_RECORD)


def is_finished(folder: Path) -> bool:
    """True when the scene folder holds a complete result (its run.json)."""
    return (folder / RUN_RECORD).is_file()


def start_scene_folder(folder: Path, overwrite: bool) -> None:
    """Make the folder ready for a new result: unmark a finished one (``overwrite``), drop leftovers."""
    folder.mkdir(parents=True, exist_ok=True)
    if overwrite:
        (folder / RUN_RECORD).unlink(missing_ok=True)  # first: a killed overwrite is unfinished
    remove_partial_files(folder)


def probability_percent(probabilities: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """uint8 percent (0..100, rounded) of float probabilities; 255 where not ``valid`` or NaN."""
    out = np.full(probabilities.shape, NODATA, dtype=np.uint8)
    ok = valid & np.isfinite(probabilities)
    out[ok] = np.rint(np.clip(probabilities[ok], 0.0, 1.0) * 100).astype(np.uint8)
    return out


def binarize(probabilities: np.ndarray, valid: np.ndarray, threshold: float) -> np.ndarray:
    """uint8 1 (RTS) / 0 where valid, 255 elsewhere."""
    out = np.full(probabilities.shape, NODATA, dtype=np.uint8)
    ok = valid & np.isfinite(probabilities)
    out[ok] = (probabilities[ok] >= threshold).astype(np.uint8)
    return out


@dataclass(frozen=True)
class SceneOutputs:
    """What :func:`write_scene_outputs` wrote."""

    folder: Path
    n_polygons: int
    valid_fraction: float
    seconds: float


def write_scene_outputs(
    folder: Path,
    scene_id: str,
    probabilities: np.ndarray,
    valid: np.ndarray,
    transform: Affine,
    crs: CRS | str,
    *,
    threshold: float = 0.5,
    min_area_m2: float = 0.0,
    record: Mapping[str, Any] | None = None,
) -> SceneOutputs:
    """Write every output of one scene into ``folder`` (see the module docstring); run.json last.

    ``probabilities`` float ``[h, w]`` (NaN allowed), ``valid`` bool ``[h, w]``; ``transform`` and
    ``crs`` are the scene's. ``record`` goes into run.json, completed with the outputs' summary.
    """
    start = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    valid = np.asarray(valid, dtype=bool) & np.isfinite(probabilities)
    masked = np.where(valid, probabilities, np.nan)
    write_cog(
        folder / PROBABILITIES,
        probability_percent(masked, valid),
        transform,
        crs,
        resampling="average",
        description="RTS probability, percent",
    )
    write_cog(folder / BINARIZED, binarize(masked, valid, threshold), transform, crs, description="RTS")
    polygons = probability_polygons(masked, transform, crs, threshold, min_area_m2)
    write_gpkg(folder / POLYGONS, polygons, "polygons")
    write_gpkg(folder / EXTENT, valid_extent(valid, transform, crs, scene_id), "extent")
    valid_fraction = float(valid.mean()) if valid.size else 0.0
    seconds = time.perf_counter() - start
    summary = {
        "scene_id": scene_id,
        "crs": CRS.from_user_input(crs).to_string(),
        "transform": list(transform)[:6],
        "shape": list(probabilities.shape),
        "threshold": threshold,
        "min_area_m2": min_area_m2,
        "n_polygons": len(polygons),
        "valid_fraction": round(valid_fraction, 6),
        "files": list(OUTPUT_FILES),
    }
    full = dict(record or {}) | {"outputs": summary}
    full["timings"] = dict(full.get("timings", {})) | {"write_s": round(seconds, 3)}
    write_json(folder / RUN_RECORD, full)
    return SceneOutputs(folder, len(polygons), valid_fraction, seconds)
