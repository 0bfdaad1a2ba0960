"""The small per-sensor part of the pipeline: discover scenes, load one, say its extent.

Everything else (labels, engineering, masks, patching, splits, writing) is shared. Workers get
the sensor by name and the scene reference (a picklable dataclass), so a job travels to a dask
worker without closures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rasterio
import xarray as xr
from odc.geo.geobox import GeoBox
from shapely.geometry.base import BaseGeometry

from darts_core.bands import BANDS
from darts_preprocess.scenes.s2_remote import LOCAL_LAYOUT_HINT

PLANET, SENTINEL2 = "planet", "s2"


@dataclass(frozen=True)
class Discovery:
    """Scenes found by a sensor's discovery, plus what it skipped (path, reason)."""

    refs: list[Any]
    skipped: list[tuple[str, str]]


def _discover_planet(folder: Path) -> Discovery:
    from darts_preprocess.sources.planet import discover_planet_scenes

    found = discover_planet_scenes(folder)
    return Discovery(list(found.scenes), [(str(p), reason) for p, reason in found.skipped])


def _load_planet(ref: Any) -> xr.Dataset:
    from darts_preprocess.sources.planet import load_planet_scene

    return load_planet_scene(ref)


def _discover_s2(folder: Path) -> Discovery:
    from darts_preprocess.sources.sentinel2 import discover_s2_scenes

    found = discover_s2_scenes(folder)
    return Discovery(list(found.scenes), [(str(p), reason) for p, reason in found.skipped])


def _load_s2(ref: Any) -> xr.Dataset:
    from darts_preprocess.sources.sentinel2 import load_s2_scene

    return load_s2_scene(ref)


@dataclass(frozen=True)
class Sensor:
    """How the pipeline talks to one sensor."""

    name: str
    label: str
    """Human name for messages."""
    arcticdem_collection: str
    discover: Callable[[Path], Discovery]
    load: Callable[[Any], xr.Dataset]
    empty_hint: str = ""
    """Appended to the error when no scene is found: where scenes come from."""
    bands: tuple[str, ...] = tuple(BANDS)
    """Bands darts can engineer from this sensor's scenes (with the DEM and TCVIS caches)."""


SENSORS: dict[str, Sensor] = {
    PLANET: Sensor(PLANET, "PlanetScope", "arcticdem-mosaics-v4.1-2m", _discover_planet, _load_planet),
    SENTINEL2: Sensor(
        SENTINEL2,
        "Sentinel-2",
        "arcticdem-mosaics-v4.1-10m",
        _discover_s2,
        _load_s2,
        empty_hint=LOCAL_LAYOUT_HINT,
    ),
}


def scene_raster_path(ref: Any) -> Path | None:
    """The main raster of a scene reference (SR GeoTIFF or netCDF), if the reference names one."""
    for attr in ("sr_path", "path", "raster_path", "file"):
        value = getattr(ref, attr, None)
        if value is not None:
            return Path(value)
    return None


def scene_extent(sensor: Sensor, ref: Any) -> BaseGeometry:
    """Image extent of a scene in EPSG:4326, read from the raster header when possible."""
    path = scene_raster_path(ref)
    if path is not None and path.suffix.lower() in (".tif", ".tiff"):
        with rasterio.open(path) as src:
            geobox = GeoBox((src.height, src.width), src.transform, src.crs)
    else:
        geobox = sensor.load(ref).odc.geobox
    return geobox.geographic_extent.geom
