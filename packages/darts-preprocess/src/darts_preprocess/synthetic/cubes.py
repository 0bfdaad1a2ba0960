"""Small darts-nextgen-style datacubes (tests, demos) built from GeoTIFF tiles.

The cubes have the real grids, coordinates, chunking and metadata (zarr v2 ``datacube_2m_v4.1.zarr``
/ ``tcvis_2000-2019.zarr``, icechunk ``arcticdem_2m.icechunk`` / ``TCTrend2019.icechunk``), but only
the chunks over the given tiles are written; every other chunk is absent, as in a cube that has
loaded a few areas. Each writer also returns the written cube pixels as GeoTIFFs in the cube's CRS
(``export_dir``), so the same data can be read from tiles and from the cube.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import shapely
import xarray as xr
import zarr
from affine import Affine
from odc.geo.geobox import GeoBox
from odc.geo.xr import xr_zeros
from rasterio.warp import Resampling, reproject
from zarr.codecs import BloscCodec

from darts_core.trainset_layout import group_array
from darts_preprocess.sources._tiles import grid_crs, reproject_geom, write_geotiff
from darts_preprocess.sources.cube_tiles import PGC_TILE_ORIGIN_M, PGC_TILE_SIZE_M

CHUNK = 3600
ARCTICDEM_ZARR2_EXTENT = (-3314693.24, -3314693.24, 3314693.24, 3314693.24)
ARCTICDEM_ICECHUNK_EXTENT = (-4000100.0, -3400100.0, 3400100.0, 4100100.0)
TCVIS_ZARR2_GRID = ((-180.0, 60.0, 180.0, 90.0), 0.00026949)
TCVIS_ICECHUNK_GRID = ((-180.0, -90.0, 180.0, 90.0), 0.00026949458523585647)
ARCTICDEM_VARS = {"dem": "float32", "datamask": "bool"}
TCVIS_ZARR2_VARS = {"tc_brightness": "uint8", "tc_greenness": "uint8", "tc_wetness": "uint8"}
TCVIS_ICECHUNK_VARS = {"TCB_slope": "uint8", "TCG_slope": "uint8", "TCW_slope": "uint8"}
MARGIN_PX = 32
"""Cube pixels written around each tile's footprint (no data there), so reads never reach an edge."""


@dataclass
class _Window:
    rows: tuple[int, int]
    cols: tuple[int, int]


def _skeleton(grid: GeoBox, variables: dict[str, str], title: str) -> xr.Dataset:
    ds = xr.Dataset(
        {
            name: xr_zeros(grid, chunks=(-1, -1), dtype=dtype, always_yx=True)
            for name, dtype in variables.items()
        },
        attrs={"title": title},
    )
    if "longitude" in ds.dims:
        ds = ds.rename({"longitude": "x", "latitude": "y"})
    return ds


def _encoding(variables: dict[str, str], zarr_format: int) -> dict[str, Any]:
    compression: dict[str, Any]
    if zarr_format == 2:
        import numcodecs

        compression = {"compressors": (numcodecs.Blosc(cname="zstd"),)}
    else:
        compression = {"compressors": [BloscCodec(clevel=9)]}
    enc: dict[str, Any] = {"spatial_ref": {"chunks": None, "dtype": "int32"}}
    for name, dtype in variables.items():
        enc[name] = {"chunks": (CHUNK, CHUNK), "dtype": dtype, **compression}
    return enc


def _window(grid: GeoBox, tile: Path) -> _Window:
    with rasterio.open(tile) as src:
        footprint = reproject_geom(shapely.box(*src.bounds), src.crs.to_wkt(), grid_crs(grid).to_wkt()).bounds
    inv = ~grid.affine
    c0, r0 = inv * (footprint[0], footprint[3])
    c1, r1 = inv * (footprint[2], footprint[1])
    rows = (max(math.floor(r0) - MARGIN_PX, 0), min(math.ceil(r1) + MARGIN_PX, grid.shape.y))
    cols = (max(math.floor(c0) - MARGIN_PX, 0), min(math.ceil(c1) + MARGIN_PX, grid.shape.x))
    return _Window(rows, cols)


def _warp_tile(grid: GeoBox, win: _Window, tile: Path, resampling: Resampling) -> np.ndarray:
    """The tile's bands on the cube window (float32, NaN outside the tile or at its nodata)."""
    (r0, r1), (c0, c1) = win.rows, win.cols
    with rasterio.open(tile) as src:
        out = np.full((src.count, r1 - r0, c1 - c0), np.nan, dtype=np.float32)
        reproject(
            rasterio.band(src, list(range(1, src.count + 1))),
            out,
            dst_transform=grid.affine * Affine.translation(c0, r0),
            dst_crs=grid_crs(grid).to_wkt(),
            dst_nodata=np.nan,
            resampling=resampling,
        )
    return out


def _export(
    export_dir: Path | None, name: str, data: np.ndarray, grid: GeoBox, win: _Window, nodata: Any
) -> None:
    if export_dir is None:
        return
    (r0, r1), (c0, c1) = win.rows, win.cols
    write_geotiff(export_dir / name, data, grid[r0:r1, c0:c1], nodata=nodata)


def arcticdem_tile_ids(grid: GeoBox, win: _Window, resolution_m: int) -> list[str]:
    """PGC mosaic tile ids (``row_col[_ysub_xsub]_<res>m_v4.1``) that a window touches."""
    (r0, r1), (c0, c1) = win.rows, win.cols
    left, bottom, right, top = grid[r0:r1, c0:c1].extent.geom.bounds
    size = PGC_TILE_SIZE_M / 2 if resolution_m == 2 else PGC_TILE_SIZE_M
    ids = []
    for i in range(
        math.floor((left - PGC_TILE_ORIGIN_M) / size), math.ceil((right - PGC_TILE_ORIGIN_M) / size)
    ):
        for j in range(
            math.floor((bottom - PGC_TILE_ORIGIN_M) / size), math.ceil((top - PGC_TILE_ORIGIN_M) / size)
        ):
            if resolution_m == 2:
                col, xsub, row, ysub = i // 2 + 1, i % 2 + 1, j // 2 + 1, j % 2 + 1
                ids.append(f"{row:02d}_{col:02d}_{ysub}_{xsub}_2m_v4.1")
            else:
                ids.append(f"{j + 1:02d}_{i + 1:02d}_{resolution_m}m_v4.1")
    return ids


def _write_arcticdem(
    group: zarr.Group, grid: GeoBox, tiles: Iterable[Path], res: int, export: Path | None
) -> list[str]:
    loaded: list[str] = []
    for tile in tiles:
        win = _window(grid, tile)
        dem = _warp_tile(grid, win, tile, Resampling.bilinear)[0]
        valid = ~np.isnan(dem)
        (r0, r1), (c0, c1) = win.rows, win.cols
        group_array(group, "dem")[r0:r1, c0:c1] = dem
        group_array(group, "datamask")[r0:r1, c0:c1] = valid
        _export(export, f"cube-{tile.stem}.tif", dem[None], grid, win, float("nan"))
        loaded += [t for t in arcticdem_tile_ids(grid, win, res) if t not in loaded]
    return loaded


def _write_tcvis(
    group: zarr.Group, grid: GeoBox, tiles: Iterable[Path], names: list[str], sep: str, export: Path | None
) -> list[str]:
    """Whole chunks, as darts-nextgen loads TCVIS chunk by chunk (outside the tiles: value 100)."""
    loaded: list[str] = []
    for tile in tiles:
        win = _window(grid, tile)
        chunk_rows = range(win.rows[0] // CHUNK, (win.rows[1] - 1) // CHUNK + 1)
        chunk_cols = range(win.cols[0] // CHUNK, (win.cols[1] - 1) // CHUNK + 1)
        for cr in chunk_rows:
            for cc in chunk_cols:
                rows = slice(cr * CHUNK, min((cr + 1) * CHUNK, grid.shape.y))
                cols = slice(cc * CHUNK, min((cc + 1) * CHUNK, grid.shape.x))
                data = _warp_tile(grid, _Window((rows.start, rows.stop), (cols.start, cols.stop)), tile,
                                  Resampling.nearest)  # fmt: skip
                key = f"{cr}{sep}{cc}"
                for i, name in enumerate(names):
                    arr = group_array(group, name)
                    fill = np.asarray(arr[rows, cols]) if key in loaded else np.uint8(100)
                    arr[rows, cols] = np.where(np.isnan(data[i]), fill, data[i]).astype(np.uint8)
                if key not in loaded:
                    loaded.append(key)
        if export is not None:
            (r0, r1), (c0, c1) = win.rows, win.cols
            data = np.stack([np.asarray(group_array(group, n)[r0:r1, c0:c1]) for n in names])
            _export(export, f"cube-{tile.stem}.tif", data, grid, win, None)
    return loaded


def write_arcticdem_zarr2(
    folder: Path, tiles: Iterable[Path], resolution_m: int = 2, export_dir: Path | None = None
) -> Path:
    """``folder/datacube_<res>m_v4.1.zarr`` holding the DEM tiles (zarr v2, consolidated)."""
    import numcodecs

    path = folder / f"datacube_{resolution_m}m_v4.1.zarr"
    grid = GeoBox.from_bbox(ARCTICDEM_ZARR2_EXTENT, "epsg:3413", resolution=resolution_m)
    ds = _skeleton(grid, ARCTICDEM_VARS, "ArcticDEM Data Cube")
    ds.attrs["loaded_tiles"] = []
    enc = _encoding(ARCTICDEM_VARS, 2)
    for axis in ("x", "y"):
        values = ds[axis].values
        step = float(values[1] - values[0])
        offset = numcodecs.FixedScaleOffset(offset=values[0], scale=1 / step, dtype=values.dtype, astype="i8")
        enc[axis] = {"chunks": values.shape, "filters": (offset, numcodecs.Delta("i8", "i2")),
                     "compressors": (numcodecs.Blosc(cname="zstd"),)}  # fmt: skip
    ds.to_zarr(path, encoding=enc, compute=False, zarr_format=2, consolidated=True)
    group = zarr.open_group(path, mode="r+", zarr_format=2)
    group.attrs["loaded_tiles"] = _write_arcticdem(group, grid, tiles, resolution_m, export_dir)
    zarr.consolidate_metadata(path, zarr_format=2)
    return path


def write_tcvis_zarr2(folder: Path, tiles: Iterable[Path], export_dir: Path | None = None) -> Path:
    """``folder/tcvis_2000-2019.zarr`` holding whole chunks over the TCVIS tiles (zarr v2)."""
    path = folder / "tcvis_2000-2019.zarr"
    bbox, res = TCVIS_ZARR2_GRID
    grid = GeoBox.from_bbox(bbox, "epsg:4326", resolution=res)
    ds = _skeleton(grid, TCVIS_ZARR2_VARS, "Landsat Trends TCVIS 2000-2019")
    ds.attrs["loaded_tiles"] = []
    enc = _encoding(TCVIS_ZARR2_VARS, 2)
    ds.to_zarr(path, encoding=enc, compute=False, zarr_format=2, consolidated=True)
    group = zarr.open_group(path, mode="r+", zarr_format=2)
    group.attrs["loaded_tiles"] = _write_tcvis(group, grid, tiles, list(TCVIS_ZARR2_VARS), "_", export_dir)
    zarr.consolidate_metadata(path, zarr_format=2)
    return path


@contextmanager
def _icechunk_session(path: Path) -> Iterator[Any]:
    import icechunk

    icechunk.set_logs_filter("icechunk=error")  # no warning about local storage and concurrent commits
    repo = icechunk.Repository.create(icechunk.local_filesystem_storage(str(path)))
    session = repo.writable_session("main")
    yield session
    session.commit("darts synthetic datacube")


def write_arcticdem_icechunk(
    folder: Path, tiles: Iterable[Path], resolution_m: int = 2, export_dir: Path | None = None
) -> Path:
    """``folder/arcticdem_<res>m.icechunk`` (zarr v3 in an icechunk repository) holding the DEM tiles."""
    path = folder / f"arcticdem_{resolution_m}m.icechunk"
    grid = GeoBox.from_bbox(ARCTICDEM_ICECHUNK_EXTENT, "epsg:3413", resolution=resolution_m)
    ds = _skeleton(grid, ARCTICDEM_VARS, f"ArcticDEM Mosaics {resolution_m}m")
    ds.attrs["loaded_patches"] = []
    with _icechunk_session(path) as session:
        ds.to_zarr(session.store, encoding=_encoding(ARCTICDEM_VARS, 3), compute=False, consolidated=False,
                   zarr_format=3, mode="w-")  # fmt: skip
        group = zarr.open_group(session.store, mode="r+", zarr_format=3)
        group.attrs["loaded_patches"] = _write_arcticdem(group, grid, tiles, resolution_m, export_dir)
    return path


def write_tctrend_icechunk(
    folder: Path, tiles: Iterable[Path], year: int = 2019, export_dir: Path | None = None
) -> Path:
    """``folder/TCTrend<year>.icechunk`` holding whole chunks over the TCVIS tiles."""
    path = folder / f"TCTrend{year}.icechunk"
    bbox, res = TCVIS_ICECHUNK_GRID
    grid = GeoBox.from_bbox(bbox, "epsg:4326", resolution=res)
    ds = _skeleton(grid, TCVIS_ICECHUNK_VARS, f"Landsat Trends {year}")
    ds.attrs["loaded_patches"] = []
    with _icechunk_session(path) as session:
        enc = _encoding(TCVIS_ICECHUNK_VARS, 3)
        ds.to_zarr(session.store, encoding=enc, compute=False, consolidated=False, zarr_format=3, mode="w-")
        group = zarr.open_group(session.store, mode="r+", zarr_format=3)
        names = list(TCVIS_ICECHUNK_VARS)
        group.attrs["loaded_patches"] = _write_tcvis(group, grid, tiles, names, "-", export_dir)
    return path
