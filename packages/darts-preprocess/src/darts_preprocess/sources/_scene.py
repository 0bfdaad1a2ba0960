"""Shared pieces of the scene readers: quality codes and the scene ``xr.Dataset`` builder."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from odc.geo.geobox import GeoBox
from odc.geo.xr import xr_coords

from darts_preprocess.sources._tiles import crs_string
from darts_preprocess.sources.errors import SceneFormatError

QUALITY_INVALID = 0
QUALITY_LOW = 1
QUALITY_HIGH = 2
OPTICAL_VARS: tuple[str, ...] = ("blue", "green", "red", "nir")


@contextmanager
def open_scene_raster(path: Path) -> Iterator[rasterio.DatasetReader]:
    """Open a scene raster; a file GDAL cannot open or read (corrupt, truncated) is a
    :class:`SceneFormatError` naming it, so the run skips that scene with the reason."""
    try:
        with rasterio.open(path) as src:
            yield src
    except rasterio.errors.RasterioIOError as err:
        raise SceneFormatError(f"{path} cannot be read as a raster: {err}") from err


def build_scene_dataset(
    bands: Mapping[str, np.ndarray], quality: np.ndarray, geobox: GeoBox, attrs: Mapping[str, Any]
) -> xr.Dataset:
    """Assemble the scene Dataset every reader returns.

    Variables blue, green, red, nir (float32 DN, NaN = no data) and ``quality`` (uint8: 0 invalid,
    1 low, 2 high; NaN optical pixels are always invalid). CRS and transform are readable through
    rioxarray (``ds.rio.crs``) and odc-geo (``ds.odc.geobox``).
    """
    data = {name: np.asarray(bands[name], dtype=np.float32) for name in OPTICAL_VARS}
    nodata = np.zeros(geobox.shape.yx, dtype=bool)
    for arr in data.values():
        nodata |= np.isnan(arr)
    quality = np.where(nodata, QUALITY_INVALID, quality).astype(np.uint8)
    invalid = quality == QUALITY_INVALID
    for arr in data.values():
        np.copyto(arr, np.float32(np.nan), where=invalid)
    coords = xr_coords(geobox, crs_coord_name="spatial_ref")
    variables = {name: (("y", "x"), arr) for name, arr in data.items()}
    variables["quality"] = (("y", "x"), quality)
    ds = xr.Dataset(variables, coords=coords, attrs=dict(attrs))
    return ds.rio.write_crs(crs_string(geobox.crs), grid_mapping_name="spatial_ref", inplace=True)


_DATE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)"), "dash"),
    (re.compile(r"(?<!\d)(20\d{2}|19\d{2})(\d{2})(\d{2})(?=T|_|$|\D)"), "compact"),
)


def date_from_name(name: str) -> str | None:
    """First plausible ``YYYY-MM-DD`` / ``YYYYMMDD`` date in a file or folder name, as ISO, else None."""
    for pattern, _ in _DATE_PATTERNS:
        for match in pattern.finditer(name):
            year, month, day = (int(g) for g in match.groups())
            if 1 <= month <= 12 and 1 <= day <= 31:
                return f"{year:04d}-{month:02d}-{day:02d}"
    return None
