"""Atomic file writers: each file is written under a temporary name in its folder, then renamed.

Temporary names are darts_core's (:mod:`darts_core.atomic`): they start with ``.`` and contain
``.partial`` (:data:`darts_core.atomic.PARTIAL_MARK`), so an interrupted run leaves nothing under a
final name and the leftovers are easy to find and remove.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS

from darts_core.atomic import atomic_path, find_partials

NODATA = 255
"""No-data value of both GeoTIFFs (uint8)."""


def remove_partial_files(folder: Path) -> list[Path]:
    """Delete the temporary files an interrupted run left in ``folder``; returns them."""
    found = [p for p in find_partials(folder) if p.is_file()]
    for path in found:
        path.unlink(missing_ok=True)
    return found


def write_cog(
    path: Path,
    data: np.ndarray,
    transform: Affine,
    crs: CRS | str,
    *,
    resampling: str = "nearest",
    description: str = "",
) -> Path:
    """A uint8 single-band Cloud-Optimized GeoTIFF (512 px tiles, DEFLATE, overviews), nodata 255."""
    if data.dtype != np.uint8 or data.ndim != 2:
        raise ValueError(f"write_cog takes a 2-D uint8 array, got {data.dtype} {data.shape}")
    profile = {
        "driver": "COG",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": "uint8",
        "crs": CRS.from_user_input(crs).to_wkt(),
        "transform": transform,
        "nodata": NODATA,
        "compress": "deflate",
        "predictor": 2,
        "blocksize": 512,
        "overview_resampling": resampling,
        "bigtiff": "if_safer",
    }
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(data, 1)
        if description:
            dst.set_band_description(1, description)
    return path


def write_gpkg(path: Path, frame: gpd.GeoDataFrame, layer: str) -> Path:
    """A GeoPackage with one layer."""
    with atomic_path(path) as tmp:
        frame.to_file(tmp, driver="GPKG", layer=layer, engine="pyogrio")
    return path


def write_json(path: Path, record: Mapping[str, Any]) -> Path:
    """A JSON file (indented, keys in insertion order)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(record, indent=2, default=str) + "\n")
    return path
