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
import math
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
from rasterio.enums import MaskFlags
from rasterio.warp import Resampling, reproject
from rasterio.windows import Window, from_bounds
from shapely.geometry.base import BaseGeometry

from darts_core.atomic import atomic_path
from darts_preprocess.jobs.helper_threads import helper_threads

logger = logging.getLogger(__name__)

COVERAGE_TOLERANCE = 1e-4
"""Fraction of the requested grid that may lie outside every tile before the cache counts as lacking it."""


def crs_string(crs: CRS | None) -> str:
    """``EPSG:n`` when the CRS has an EPSG code, else its WKT (ValueError for None: no CRS)."""
    if crs is None:
        raise ValueError("a grid or geometry without a CRS; darts needs georeferenced data")
    return f"EPSG:{crs.epsg}" if crs.epsg is not None else crs.to_wkt()


def grid_crs(geobox: GeoBox) -> CRS:
    """The CRS of a grid (ValueError for a grid without one)."""
    if geobox.crs is None:
        raise ValueError(f"grid {geobox.shape} at {geobox.affine} has no CRS; darts needs georeferenced data")
    return geobox.crs


def list_tiles(cache_dir: Path) -> list[Path]:
    """GeoTIFF tiles of a cache folder, sorted by name (empty if the folder does not exist)."""
    if not cache_dir.is_dir():
        return []
    return sorted(p for p in cache_dir.iterdir() if p.suffix.lower() in (".tif", ".tiff") and p.is_file())


@functools.lru_cache(maxsize=64)
def _transformer(src_wkt: str, dst_wkt: str) -> Transformer:
    return Transformer.from_crs(src_wkt, dst_wkt, always_xy=True)


def reproject_geom(geom: BaseGeometry, src_crs: Any, dst_crs: Any) -> BaseGeometry:
    """A shapely geometry moved between CRSs, densified first so straight edges stay faithful."""
    transformer = _transformer(CRS(src_crs).to_wkt(), CRS(dst_crs).to_wkt())
    dense = shapely.segmentize(geom, max(shapely.length(geom) / 400.0, 1e-9))
    return shapely.transform(dense, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


@functools.lru_cache(maxsize=4096)
def _tile_bounds(path: str, mtime_ns: int) -> tuple[tuple[float, float, float, float], str]:
    with rasterio.open(path) as src:
        b = src.bounds
        return (b.left, b.bottom, b.right, b.top), src.crs.to_wkt()


@functools.lru_cache(maxsize=4096)
def _tile_extent_cached(path: str, mtime_ns: int, crs_wkt: str) -> BaseGeometry:
    bounds, tile_crs = _tile_bounds(path, mtime_ns)
    return reproject_geom(shapely.box(*bounds), tile_crs, crs_wkt)


def _tile_extent(path: Path, crs: CRS) -> BaseGeometry:
    """Footprint of a tile (its bounds) in ``crs``."""
    return _tile_extent_cached(str(path), path.stat().st_mtime_ns, CRS(crs).to_wkt())


def missing_extent(cache_dir: Path, geobox: GeoBox) -> Geometry | None:
    """The part of ``geobox`` (in its CRS) not covered by any tile, or None when fully covered."""
    target, crs = geobox.extent.geom, grid_crs(geobox)
    covered = [t for p in list_tiles(cache_dir) if (t := _tile_extent(p, crs)).intersects(target)]
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


def _source_window(src: rasterio.DatasetReader, geobox: GeoBox) -> Window | None:
    """The tile pixels that can reach ``geobox`` (its extent plus a resampling margin), or None."""
    full = Window(0, 0, src.width, src.height)
    bounds = reproject_geom(geobox.extent.geom, geobox.crs, src.crs.to_wkt()).bounds
    if not src.transform.is_rectilinear or not all(math.isfinite(v) for v in bounds):
        return full
    win = from_bounds(*bounds, transform=src.transform)
    src_px_per_dst_px = max(win.width / geobox.shape.x, win.height / geobox.shape.y, 1.0)
    margin = math.ceil(4 * src_px_per_dst_px) + 4  # reach of cubic/lanczos kernels plus rounding
    col0, row0 = math.floor(win.col_off) - margin, math.floor(win.row_off) - margin
    col1 = math.ceil(win.col_off + win.width) + margin
    row1 = math.ceil(win.row_off + win.height) + margin
    col0, row0, col1, row1 = max(col0, 0), max(row0, 0), min(col1, src.width), min(row1, src.height)
    if col0 >= col1 or row0 >= row1:
        return None
    return Window(col0, row0, col1 - col0, row1 - row0)


def _warp_tile(
    src: rasterio.DatasetReader, geobox: GeoBox, n_bands: int, resampling: str
) -> np.ndarray | None:
    """One tile warped onto ``geobox`` (all bands in one pass), NaN where it has no data; None if apart.

    Only the source window reaching the grid is read (once, all bands). A window without nodata
    pixels is warped without nodata masks, which lets GDAL use its fast kernels (same values up to
    float rounding, ~1e-7 relative); pixels the tile does not reach stay NaN.
    """
    out = np.full((n_bands, *geobox.shape.yx), np.nan, dtype=np.float32)
    common = {
        "destination": out,
        "dst_transform": geobox.affine,
        "dst_crs": grid_crs(geobox).to_wkt(),
        "resampling": Resampling[resampling],
        "num_threads": helper_threads(),
    }
    masked = any(MaskFlags.per_dataset in f or MaskFlags.alpha in f for f in src.mask_flag_enums)
    if masked:  # a mask band or alpha: let GDAL read the dataset and apply its masks
        reproject(source=rasterio.band(src, list(range(1, n_bands + 1))), dst_nodata=np.nan, **common)
        return out
    window = _source_window(src, geobox)
    if window is None:
        return None
    data = src.read(list(range(1, n_bands + 1)), window=window)
    return warp_array(data, src.window_transform(window), src.crs, src.nodata, geobox, resampling)


def warp_array(
    data: np.ndarray, transform: Any, crs: Any, nodata: float | None, geobox: GeoBox, resampling: str
) -> np.ndarray:
    """A ``[c, h, w]`` array (own transform and CRS) warped onto ``geobox``: float32, NaN = no data.

    Shared by the GeoTIFF tiles and the datacubes, so both give the same values from the same pixels.
    """
    out = np.full((data.shape[0], *geobox.shape.yx), np.nan, dtype=np.float32)
    has_nodata = nodata is not None and bool(
        np.isnan(data).any() if np.isnan(nodata) else (data == nodata).any()
    )
    reproject(
        source=data,
        destination=out,
        src_transform=transform,
        src_crs=crs,
        src_nodata=nodata if has_nodata else None,
        dst_transform=geobox.affine,
        dst_crs=grid_crs(geobox).to_wkt(),
        dst_nodata=np.nan if has_nodata else None,
        init_dest_nodata=has_nodata,
        resampling=Resampling[resampling],
        num_threads=helper_threads(),
    )
    return out


def read_mosaic(cache_dir: Path, geobox: GeoBox, n_bands: int, resampling: str) -> np.ndarray:
    """Warp the overlapping tiles onto ``geobox``: float32 ``[n_bands, h, w]``, NaN where none has data."""
    out: np.ndarray | None = None
    target = geobox.extent.geom
    for path in list_tiles(cache_dir):
        if not _tile_extent(path, grid_crs(geobox)).intersects(target):
            continue
        with rasterio.open(path) as src:
            if src.count < n_bands:
                raise ValueError(f"cache tile {path} has {src.count} band(s); expected {n_bands}")
            layer = _warp_tile(src, geobox, n_bands, resampling)
        if layer is None:
            continue
        if out is None:
            out = layer
        else:
            empty = np.isnan(out)
            out[empty] = layer[empty]
        if not np.isnan(out).any():
            break
    if out is None:
        out = np.full((n_bands, *geobox.shape.yx), np.nan, dtype=np.float32)
    return out


def tile_name(geobox: GeoBox, prefix: str) -> str:
    """Stable file name of a remote tile covering ``geobox``."""
    key = f"{grid_crs(geobox).to_wkt()}|{tuple(geobox.affine)}|{geobox.shape}"
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
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(data)
        for i, desc in enumerate(descriptions, start=1):
            dst.set_band_description(i, desc)
        if tags:
            dst.update_tags(**tags)
    return path


def write_tile(cache_dir: Path, name: str, data: np.ndarray, geobox: GeoBox, descriptions: list[str]) -> Path:
    """Write a cache tile (float data gets NaN as nodata)."""
    nodata = float("nan") if np.issubdtype(data.dtype, np.floating) else None
    path = write_geotiff(cache_dir / name, data, geobox, nodata, descriptions)
    logger.info("cached %s", path)
    return path
