"""A local raster cache: a folder of GeoTIFF tiles in any CRS, mosaicked and warped onto a grid.

Layout (used by the ArcticDEM and TCVIS caches)::

    cache_dir/
      <any name>.tif   one or more GeoTIFFs, any CRS and resolution, nodata set in the file
                       (or NaN for float); tiles may overlap: the first in sorted name order wins

Remote sources fill the cache by writing one more tile (``remote-<hash>.tif``) covering the
requested grid, so a second run reads it locally.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import shapely
from odc.geo import CRS
from odc.geo.geobox import GeoBox
from odc.geo.geom import Geometry
from pyproj import Transformer
from rasterio.warp import Resampling, reproject
from shapely.geometry.base import BaseGeometry

logger = logging.getLogger(__name__)

COVERAGE_TOLERANCE = 1e-4
"""Fraction of the requested grid that may lie outside every tile before the cache counts as lacking it."""


def crs_string(crs: CRS) -> str:
    """``EPSG:n`` when the CRS has an EPSG code, else its WKT."""
    return f"EPSG:{crs.epsg}" if crs.epsg is not None else crs.to_wkt()


def list_tiles(cache_dir: Path) -> list[Path]:
    """GeoTIFF tiles of a cache folder, sorted by name (empty if the folder does not exist)."""
    if not cache_dir.is_dir():
        return []
    return sorted(p for p in cache_dir.iterdir() if p.suffix.lower() in (".tif", ".tiff") and p.is_file())


def reproject_geom(geom: BaseGeometry, src_crs: Any, dst_crs: Any) -> BaseGeometry:
    """A shapely geometry moved between CRSs, densified first so straight edges stay faithful."""
    transformer = Transformer.from_crs(CRS(src_crs).proj, CRS(dst_crs).proj, always_xy=True)
    dense = shapely.segmentize(geom, max(shapely.length(geom) / 400.0, 1e-9))
    return shapely.transform(dense, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


@functools.lru_cache(maxsize=4096)
def _tile_bounds(path: str, mtime_ns: int) -> tuple[tuple[float, float, float, float], str]:
    with rasterio.open(path) as src:
        b = src.bounds
        return (b.left, b.bottom, b.right, b.top), src.crs.to_wkt()


def _tile_extent(path: Path, crs: CRS) -> BaseGeometry:
    """Footprint of a tile (its bounds) in ``crs``."""
    bounds, tile_crs = _tile_bounds(str(path), path.stat().st_mtime_ns)
    return reproject_geom(shapely.box(*bounds), tile_crs, crs)


def missing_extent(cache_dir: Path, geobox: GeoBox) -> Geometry | None:
    """The part of ``geobox`` (in its CRS) not covered by any tile, or None when fully covered."""
    target = geobox.extent.geom
    covered = [t for p in list_tiles(cache_dir) if (t := _tile_extent(p, geobox.crs)).intersects(target)]
    missing = target if not covered else target.difference(shapely.union_all(covered))
    if missing.is_empty or missing.area <= COVERAGE_TOLERANCE * target.area:
        return None
    return Geometry(missing, geobox.crs)


def describe_extent(geom: Geometry) -> str:
    """Human-readable bounds of an extent in its CRS and in lon/lat."""
    b = geom.geom.bounds
    g = reproject_geom(geom.geom, geom.crs, "EPSG:4326").bounds
    return (
        f"x {b[0]:.0f}..{b[2]:.0f}, y {b[1]:.0f}..{b[3]:.0f} in {crs_string(geom.crs)} "
        f"(lon {g[0]:.4f}..{g[2]:.4f}, lat {g[1]:.4f}..{g[3]:.4f})"
    )


def read_mosaic(cache_dir: Path, geobox: GeoBox, n_bands: int, resampling: str) -> np.ndarray:
    """Warp the overlapping tiles onto ``geobox``: float32 ``[n_bands, h, w]``, NaN where none has data."""
    out = np.full((n_bands, *geobox.shape.yx), np.nan, dtype=np.float32)
    target = geobox.extent.geom
    for path in list_tiles(cache_dir):
        if not _tile_extent(path, geobox.crs).intersects(target):
            continue
        with rasterio.open(path) as src:
            if src.count < n_bands:
                raise ValueError(f"cache tile {path} has {src.count} band(s); expected {n_bands}")
            for i in range(n_bands):
                layer = np.full(geobox.shape.yx, np.nan, dtype=np.float32)
                reproject(
                    source=rasterio.band(src, i + 1),
                    destination=layer,
                    dst_transform=geobox.affine,
                    dst_crs=geobox.crs.to_wkt(),
                    dst_nodata=np.nan,
                    resampling=Resampling[resampling],
                )
                empty = np.isnan(out[i])
                out[i][empty] = layer[empty]
        if not np.isnan(out).any():
            break
    return out


def tile_name(geobox: GeoBox, prefix: str) -> str:
    """Stable file name of a remote tile covering ``geobox``."""
    key = f"{geobox.crs.to_wkt()}|{tuple(geobox.affine)}|{geobox.shape}"
    return f"{prefix}-{hashlib.sha1(key.encode()).hexdigest()[:16]}.tif"


def write_geotiff(
    path: Path,
    data: np.ndarray,
    geobox: GeoBox,
    nodata: float | None = None,
    descriptions: Sequence[str] = (),
    tags: Mapping[str, str] | None = None,
) -> Path:
    """Write a ``[c, h, w]`` array as a deflate GeoTIFF atomically (temp name, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    profile = {
        "driver": "GTiff",
        "height": data.shape[1],
        "width": data.shape[2],
        "count": data.shape[0],
        "dtype": data.dtype.name,
        "crs": crs_string(geobox.crs),
        "transform": geobox.affine,
        "nodata": nodata,
        "compress": "deflate",
    }
    if data.shape[1] >= 256 and data.shape[2] >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    with rasterio.open(tmp, "w", **profile) as dst:
        dst.write(data)
        for i, desc in enumerate(descriptions, start=1):
            dst.set_band_description(i, desc)
        if tags:
            dst.update_tags(**tags)
    os.replace(tmp, path)
    return path


def write_tile(cache_dir: Path, name: str, data: np.ndarray, geobox: GeoBox, descriptions: list[str]) -> Path:
    """Write a cache tile (float data gets NaN as nodata)."""
    nodata = float("nan") if np.issubdtype(data.dtype, np.floating) else None
    path = write_geotiff(cache_dir / name, data, geobox, nodata, descriptions)
    logger.info("cached %s", path)
    return path
