"""Read-only access to a darts-nextgen datacube, once its layout module opened it as a zarr group.

A datacube is one pan-Arctic grid (1-D ``x`` / ``y`` pixel-centre coordinates, a ``spatial_ref``
coordinate holding the CRS, square chunks) whose chunks are written area by area; an attribute
lists the areas written so far (see :mod:`.cube_tiles`). Everything else is no data: chunks never
written, areas outside the listed ones, and pixels whose validity mask (ArcticDEM ``datamask``)
is false. Reading crops the grid to the target plus the resampling reach first, so only the chunks
under the target are read, then warps exactly like a GeoTIFF tile (:func:`._tiles.warp_array`).
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
import zarr
from affine import Affine
from odc.geo import CRS
from odc.geo.geobox import GeoBox
from odc.geo.geom import Geometry
from rasterio.features import geometry_mask
from shapely.geometry.base import BaseGeometry

from darts_core.trainset_layout import group_array
from darts_preprocess.sources._tiles import COVERAGE_TOLERANCE, grid_crs, reproject_geom, warp_array
from darts_preprocess.sources.errors import AuxDataMissingError

logger = logging.getLogger(__name__)

TileExtent = Callable[[str, GeoBox, tuple[int, int]], BaseGeometry | None]
"""Footprint (in the cube CRS) of one entry of the loaded-areas attribute, None if it cannot be parsed."""


@dataclass(frozen=True)
class CubeSpec:
    """What a datacube layout holds."""

    variables: tuple[str, ...]
    """Variables read, in the order the caller wants the bands."""
    loaded_attr: str
    """Group attribute listing the areas written so far (``loaded_tiles`` / ``loaded_patches``)."""
    tile_extent: TileExtent
    """Footprint of one entry of that list."""
    valid_variable: str | None = None
    """Boolean variable that is false where the data is no data (ArcticDEM ``datamask``)."""


@dataclass
class Datacube:
    """An opened datacube: its zarr group, full grid and what it has loaded."""

    path: Path
    layout: str
    """Human-readable layout name (``zarr v2 datacube``, ``icechunk repository``)."""
    group: zarr.Group
    grid: GeoBox
    chunks: tuple[int, int]
    spec: CubeSpec
    _coverage: BaseGeometry | None = field(default=None, init=False, repr=False)

    @property
    def description(self) -> str:
        """``<layout> <path>`` for log lines and messages."""
        return f"{self.layout} {self.path}"

    def coverage(self) -> BaseGeometry:
        """Union of the loaded areas, in the cube CRS (the whole grid if an entry cannot be parsed)."""
        if self._coverage is None:
            self._coverage = _loaded_coverage(self)
        return self._coverage

    def missing(self, geobox: GeoBox) -> Geometry | None:
        """The part of ``geobox`` (in its CRS) outside the loaded areas, or None when it is covered."""
        target = geobox.extent.geom
        covered = reproject_geom(self.coverage(), grid_crs(self.grid).to_wkt(), grid_crs(geobox).to_wkt())
        missing = target.difference(covered)
        if missing.is_empty or missing.area <= COVERAGE_TOLERANCE * target.area:
            return None
        return Geometry(missing, geobox.crs)

    def read(self, geobox: GeoBox, resampling: str) -> np.ndarray:
        """The variables warped onto ``geobox``: float32 ``[n_vars, h, w]``, NaN where no data."""
        window = cube_window(self.grid, geobox)
        if window is None:
            return np.full((len(self.spec.variables), *geobox.shape.yx), np.nan, dtype=np.float32)
        (r0, r1), (c0, c1) = window
        data = np.empty((len(self.spec.variables), r1 - r0, c1 - c0), dtype=np.float32)
        for i, name in enumerate(self.spec.variables):
            data[i] = group_array(self.group, name)[r0:r1, c0:c1]
        invalid = ~self._loaded_mask(window)
        if self.spec.valid_variable is not None:
            valid = group_array(self.group, self.spec.valid_variable)[r0:r1, c0:c1]
            invalid |= ~np.asarray(valid, dtype=bool)
        data[:, invalid] = np.nan
        transform = self.grid.affine * Affine.translation(c0, r0)
        return warp_array(data, transform, grid_crs(self.grid).to_wkt(), float("nan"), geobox, resampling)

    def _loaded_mask(self, window: tuple[tuple[int, int], tuple[int, int]]) -> np.ndarray:
        (r0, r1), (c0, c1) = window
        transform = self.grid.affine * Affine.translation(c0, r0)
        coverage = self.coverage()
        if coverage.is_empty:
            return np.zeros((r1 - r0, c1 - c0), dtype=bool)
        return geometry_mask([coverage], (r1 - r0, c1 - c0), transform, invert=True, all_touched=False)


def _loaded_coverage(cube: Datacube) -> BaseGeometry:
    entries = cube.group.attrs.get(cube.spec.loaded_attr, [])
    if not isinstance(entries, list):
        logger.warning(
            "%s: attribute %s is %r, not a list; treating the whole grid as loaded",
            cube.description,
            cube.spec.loaded_attr,
            entries,
        )
        return cube.grid.extent.geom
    shapes = []
    for entry in entries:
        shape = cube.spec.tile_extent(str(entry), cube.grid, cube.chunks)
        if shape is None:
            logger.warning(
                "%s: cannot place %s entry %r; treating the whole grid as loaded (no-data still from "
                "the data mask)",
                cube.description,
                cube.spec.loaded_attr,
                entry,
            )
            return cube.grid.extent.geom
        shapes.append(shape)
    return shapely.union_all(shapes) if shapes else shapely.Polygon()


def cube_window(grid: GeoBox, geobox: GeoBox) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Rows and columns of ``grid`` reaching ``geobox`` (its extent plus the cubic kernel's reach)."""
    bounds = reproject_geom(geobox.extent.geom, grid_crs(geobox).to_wkt(), grid_crs(grid).to_wkt()).bounds
    if not all(math.isfinite(v) for v in bounds):
        raise AuxDataMissingError(
            f"the grid {geobox.extent.geom.bounds} cannot be placed on the datacube grid"
        )
    inv = ~grid.affine
    corners = [inv * (x, y) for x in (bounds[0], bounds[2]) for y in (bounds[1], bounds[3])]
    cols, rows = [c for c, _ in corners], [r for _, r in corners]
    src_per_dst = max((max(cols) - min(cols)) / geobox.shape.x, (max(rows) - min(rows)) / geobox.shape.y, 1.0)
    margin = math.ceil(4 * src_per_dst) + 4  # reach of cubic/lanczos kernels plus rounding
    c0, c1 = math.floor(min(cols)) - margin, math.ceil(max(cols)) + margin
    r0, r1 = math.floor(min(rows)) - margin, math.ceil(max(rows)) + margin
    c0, r0, c1, r1 = max(c0, 0), max(r0, 0), min(c1, grid.shape.x), min(r1, grid.shape.y)
    if c0 >= c1 or r0 >= r1:
        return None
    return (r0, r1), (c0, c1)


def _crs_of(group: zarr.Group, path: Path) -> CRS:
    if "spatial_ref" not in group:
        raise AuxDataMissingError(
            f"datacube {path} has no spatial_ref variable (expected a darts-nextgen cube)"
        )
    attrs = dict(group["spatial_ref"].attrs)
    wkt = attrs.get("crs_wkt") or attrs.get("spatial_ref")
    if not wkt:
        raise AuxDataMissingError(
            f"datacube {path}: spatial_ref has neither crs_wkt nor spatial_ref attribute"
        )
    return CRS(wkt)


_AXIS_CACHE: dict[tuple[str, str, str], tuple[float, float, int]] = {}
_AXIS_LOCK = threading.Lock()


def _axis(group: zarr.Group, name: str, path: Path) -> tuple[float, float, int]:
    """First pixel centre, step and length of a regular 1-D coordinate.

    A pan-Arctic coordinate is one chunk of millions of values (~0.5 s to decode), so the answer is
    kept per process, keyed by cube path and the array's metadata (darts-nextgen never rewrites the
    coordinates of a cube; a rebuilt cube with another grid has other metadata).
    """
    if name not in group:
        raise AuxDataMissingError(f"datacube {path} has no {name!r} coordinate")
    arr = group_array(group, name)
    if arr.ndim != 1 or arr.shape[0] < 2:
        raise AuxDataMissingError(f"datacube {path}: coordinate {name!r} has shape {arr.shape}; expected 1-D")
    key = (str(path), name, json.dumps(arr.metadata.to_dict(), sort_keys=True, default=str))
    with _AXIS_LOCK:
        known = _AXIS_CACHE.get(key)
    if known is not None:
        return known
    first, second = (float(v) for v in np.asarray(arr[:2]))
    axis = (first, second - first, int(arr.shape[0]))
    with _AXIS_LOCK:
        if len(_AXIS_CACHE) > 64:
            _AXIS_CACHE.clear()
        _AXIS_CACHE[key] = axis
    return axis


def cube_grid(group: zarr.Group, path: Path, variable: str) -> tuple[GeoBox, tuple[int, int]]:
    """The full grid of a cube (from its coordinates and spatial_ref) and the chunk shape of ``variable``."""
    x0, dx, nx = _axis(group, "x", path)
    y0, dy, ny = _axis(group, "y", path)
    affine = Affine(dx, 0.0, x0 - dx / 2, 0.0, dy, y0 - dy / 2)
    if variable not in group:
        raise AuxDataMissingError(
            f"datacube {path} has no variable {variable!r} (has {sorted(group.keys())})"
        )
    arr = group_array(group, variable)
    if arr.shape != (ny, nx):
        raise AuxDataMissingError(
            f"datacube {path}: {variable} has shape {arr.shape}; expected {(ny, nx)} (y, x)"
        )
    chunks = tuple(int(c) for c in arr.chunks)
    return GeoBox((ny, nx), affine, _crs_of(group, path)), (chunks[0], chunks[1])


def open_cube(path: Path, layout: str, group: zarr.Group, spec: CubeSpec) -> Datacube:
    """Check the group against ``spec`` and wrap it."""
    grid, chunks = cube_grid(group, path, spec.variables[0])
    for name in (*spec.variables[1:], *([spec.valid_variable] if spec.valid_variable else [])):
        if name not in group:
            raise AuxDataMissingError(
                f"datacube {path} has no variable {name!r} (has {sorted(group.keys())})"
            )
    return Datacube(path, layout, group, grid, chunks, spec)
