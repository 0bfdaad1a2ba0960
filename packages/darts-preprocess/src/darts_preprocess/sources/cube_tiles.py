"""What the loaded-areas attribute of a darts-nextgen datacube means, and the variables each cube holds.

* ArcticDEM cubes list ArcticDEM mosaic tile ids (``loaded_tiles`` in the zarr v2 cubes,
  ``loaded_patches`` in the icechunk repositories): ``<row>_<col>_<res>m_v4.1`` for the 10 m and
  32 m mosaics, ``<row>_<col>_<ysub>_<xsub>_2m_v4.1`` for the 2 m mosaic. The Polar Geospatial
  Center's tiles are 100 km squares in EPSG:3413 numbered from 1 at (-4 000 000, -4 000 000), row
  (y) first; each 2 m tile is split into four 50 km sub-tiles numbered 1..2 from its lower left
  corner, again row first (PGC's sub-tile naming, ``{y}_{x}``, in pgcdemtools' tile divider).
* TCVIS cubes list chunk indices of their own grid: ``<row>_<col>`` (zarr v2) or ``<row>-<col>``
  (icechunk), each one chunk of the cube.
"""

from __future__ import annotations

import re

import shapely
from odc.geo.geobox import GeoBox
from shapely.geometry.base import BaseGeometry

from darts_preprocess.sources._cube import CubeSpec

PGC_TILE_ORIGIN_M = -4_000_000.0
PGC_TILE_SIZE_M = 100_000.0
_DEM_ID = re.compile(r"^(\d+)_(\d+)(?:_([12])_([12]))?_(\d+)m_v[\d.]+$")
_CHUNK_ID = re.compile(r"^(\d+)[_-](\d+)$")


def arcticdem_tile_extent(tile_id: str, grid: GeoBox, chunks: tuple[int, int]) -> BaseGeometry | None:
    """Footprint (EPSG:3413 metres) of an ArcticDEM mosaic tile id, None if it is not one."""
    match = _DEM_ID.match(tile_id)
    if match is None:
        return None
    row, col = int(match[1]), int(match[2])
    left = PGC_TILE_ORIGIN_M + (col - 1) * PGC_TILE_SIZE_M
    bottom = PGC_TILE_ORIGIN_M + (row - 1) * PGC_TILE_SIZE_M
    if match[3] is None:
        return shapely.box(left, bottom, left + PGC_TILE_SIZE_M, bottom + PGC_TILE_SIZE_M)
    half = PGC_TILE_SIZE_M / 2
    bottom += (int(match[3]) - 1) * half  # sub-tile row (y) first, like the tile id
    left += (int(match[4]) - 1) * half
    return shapely.box(left, bottom, left + half, bottom + half)


def chunk_tile_extent(tile_id: str, grid: GeoBox, chunks: tuple[int, int]) -> BaseGeometry | None:
    """Footprint (cube CRS) of the chunk ``<row>_<col>`` / ``<row>-<col>``, None if it is not one."""
    match = _CHUNK_ID.match(tile_id)
    if match is None:
        return None
    row, col = int(match[1]), int(match[2])
    r0, c0 = row * chunks[0], col * chunks[1]
    r1, c1 = min(r0 + chunks[0], grid.shape.y), min(c0 + chunks[1], grid.shape.x)
    if r0 >= grid.shape.y or c0 >= grid.shape.x:
        return None
    return grid[r0:r1, c0:c1].extent.geom


ARCTICDEM_ZARR2 = CubeSpec(("dem",), "loaded_tiles", arcticdem_tile_extent, valid_variable="datamask")
ARCTICDEM_ICECHUNK = CubeSpec(("dem",), "loaded_patches", arcticdem_tile_extent, valid_variable="datamask")
TCVIS_ZARR2 = CubeSpec(("tc_brightness", "tc_greenness", "tc_wetness"), "loaded_tiles", chunk_tile_extent)
TCVIS_ICECHUNK = CubeSpec(("TCB_slope", "TCG_slope", "TCW_slope"), "loaded_patches", chunk_tile_extent)
