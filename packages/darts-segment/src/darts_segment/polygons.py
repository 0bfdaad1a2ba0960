"""Probability map -> vector layers: one polygon per connected RTS region, and the valid-data extent.

Regions are 4-connected groups of pixels with probability >= threshold (pixels sharing an edge),
which is also how GDAL traces polygon outlines, so each region gives exactly one polygon (holes
included). Areas are in m²: planar in a projected CRS, geodesic (WGS 84) in a geographic one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from pyproj import CRS, Geod
from rasterio.features import shapes
from scipy import ndimage
from shapely.geometry import shape
from shapely.ops import unary_union

POLYGON_COLUMNS: tuple[str, ...] = ("region_id", "area_m2", "mean_probability", "max_probability")


def _areas_m2(geoms: Sequence[Any] | np.ndarray, crs: CRS) -> np.ndarray:
    if not crs.is_geographic:
        factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
        return np.asarray(shapely.area(np.asarray(geoms, dtype=object)), dtype=np.float64) * factor**2
    geod = Geod(ellps="WGS84")
    return np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in geoms], dtype=np.float64)


def _polygons_by_id(traced: Iterable[tuple[dict[str, Any], float]], n: int) -> np.ndarray:
    """Shapely polygons of GeoJSON-like polygons ``(geometry, region id 1..n)``, in id order.

    Built in one vectorised call (rings, then polygons whose first ring is the shell) instead of one
    ``shapely.geometry.shape`` per region, which dominated for maps with thousands of regions.
    """
    coords: list[Any] = []
    ring_lengths: list[int] = []
    polygon_of_ring: list[int] = []
    order = np.empty(n, dtype=np.int64)
    for index, (geom, value) in enumerate(traced):
        order[int(value) - 1] = index
        for ring in geom["coordinates"]:
            ring_lengths.append(len(ring))
            polygon_of_ring.append(index)
            coords.extend(ring)
    ring_of_point = np.repeat(np.arange(len(ring_lengths)), ring_lengths)
    rings = np.asarray(shapely.linearrings(np.asarray(coords, dtype=np.float64), indices=ring_of_point))
    polygons = shapely.polygons(rings, indices=np.asarray(polygon_of_ring, dtype=np.int64))
    return np.asarray(polygons, dtype=object)[order]


def probability_polygons(
    probabilities: np.ndarray,
    transform: Affine,
    crs: CRS | str,
    threshold: float = 0.5,
    min_area_m2: float = 0.0,
) -> gpd.GeoDataFrame:
    """One polygon per connected region of ``probabilities >= threshold`` (NaN = no data, never RTS).

    Columns: ``region_id`` (1..n, row-major order of the regions' first pixel), ``area_m2``,
    ``mean_probability`` and ``max_probability`` (over the region's pixels); geometry in ``crs``.
    Regions smaller than ``min_area_m2`` are dropped (the ids of the others stay).
    """
    crs = CRS.from_user_input(crs)
    values = np.nan_to_num(probabilities, nan=0.0)
    rts = values >= threshold
    regions, n = ndimage.label(rts)
    if n == 0:
        return gpd.GeoDataFrame({c: [] for c in POLYGON_COLUMNS}, geometry=[], crs=crs)
    traced = shapes(regions.astype(np.int32, copy=False), mask=rts, transform=transform, connectivity=4)
    geoms = _polygons_by_id(traced, n)
    ids = np.arange(1, n + 1)
    frame = gpd.GeoDataFrame(
        {
            "region_id": ids.astype(np.int64),
            "area_m2": _areas_m2(geoms, crs),
            "mean_probability": np.asarray(ndimage.mean(values, regions, ids), dtype=np.float64),
            "max_probability": np.asarray(ndimage.maximum(values, regions, ids), dtype=np.float64),
        },
        geometry=geoms,
        crs=crs,
    )
    return frame[frame["area_m2"] >= min_area_m2].reset_index(drop=True)


def valid_extent(valid: np.ndarray, transform: Affine, crs: CRS | str, scene_id: str) -> gpd.GeoDataFrame:
    """The valid-data footprint as one (multi)polygon row: ``scene_id``, ``area_m2``, geometry."""
    crs = CRS.from_user_input(crs)
    mask = np.asarray(valid, dtype=bool)
    parts = [shape(g) for g, _ in shapes(mask.astype(np.uint8), mask=mask, transform=transform)]
    geom = unary_union(parts) if parts else None
    area = float(_areas_m2([geom], crs)[0]) if geom is not None else 0.0
    geometry = np.array([geom], dtype=object)  # a None footprint stays a missing geometry
    return gpd.GeoDataFrame({"scene_id": [scene_id], "area_m2": [area]}, geometry=geometry, crs=crs)
