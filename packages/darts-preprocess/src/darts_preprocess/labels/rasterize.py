"""Burn label polygons into a scene grid, by pixel centre, with the constant value 1.

Each polygon is burned in its own pixel window, so the per-scene report can say how many labels
lie outside the image and how many are too small to cover a single pixel centre.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import shapely
from rasterio import features
from rasterio.transform import Affine
from shapely.geometry.base import BaseGeometry

from darts_core.labels import LABEL_RTS


@dataclass(frozen=True)
class LabelBurnReport:
    """What happened to the labels matched to one scene."""

    matched: int
    """Labels whose image id matches the scene (exactly or by truncated prefix)."""
    repaired: int
    """Of those, geometries that were invalid and made valid."""
    outside_image: int
    """Labels that do not intersect the scene's valid area (footprint or image extent)."""
    too_small: int
    """Labels inside the scene that cover no pixel centre (nothing burned)."""
    burned: int
    """Labels that set at least one pixel to 1."""
    footprint_source: str
    """'footprint file' or 'image extent'."""
    prefix_matched_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """Plain dict for reports and config.toml."""
        out = asdict(self)
        out["prefix_matched_ids"] = list(self.prefix_matched_ids)
        return out


def _pixel_window(
    geom: BaseGeometry, inverse: Affine, shape: tuple[int, int]
) -> tuple[int, int, int, int] | None:
    """Row/col window (r0, r1, c0, c1) covering ``geom``, clipped to the grid; None when empty."""
    minx, miny, maxx, maxy = geom.bounds
    corners = [inverse @ (x, y) for x in (minx, maxx) for y in (miny, maxy)]
    cols = [c for c, _ in corners]
    rows = [r for _, r in corners]
    c0, c1 = max(0, math.floor(min(cols))), min(shape[1], math.ceil(max(cols)) + 1)
    r0, r1 = max(0, math.floor(min(rows))), min(shape[0], math.ceil(max(rows)) + 1)
    if r0 >= r1 or c0 >= c1:
        return None
    return r0, r1, c0, c1


def burn_labels(
    geometries: Sequence[BaseGeometry],
    transform: Affine,
    shape: tuple[int, int],
    valid_area: BaseGeometry | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rasterise polygons (in the grid's CRS) by pixel centre with value 1.

    Returns ``(mask uint8 [h, w], outside bool [n], too_small bool [n])``. ``valid_area`` (the
    footprint, in the grid's CRS) decides "outside"; the image box is always applied.
    """
    mask = np.zeros(shape, dtype=np.uint8)
    n = len(geometries)
    outside = np.zeros(n, dtype=bool)
    too_small = np.zeros(n, dtype=bool)
    h, w = shape
    image_box = shapely.Polygon(
        [transform @ (0, 0), transform @ (w, 0), transform @ (w, h), transform @ (0, h)]
    )
    area = image_box if valid_area is None else image_box.intersection(valid_area)
    inverse = ~transform
    for i, geom in enumerate(geometries):
        if geom is None or geom.is_empty or not geom.intersects(area):
            outside[i] = True
            continue
        window = _pixel_window(geom, inverse, shape)
        if window is None:
            outside[i] = True
            continue
        r0, r1, c0, c1 = window
        burned = features.rasterize(
            [(geom, LABEL_RTS)],
            out_shape=(r1 - r0, c1 - c0),
            transform=transform @ Affine.translation(c0, r0),
            fill=0,
            all_touched=False,
            dtype="uint8",
        )
        if not burned.any():
            too_small[i] = True
            continue
        np.maximum(mask[r0:r1, c0:c1], burned, out=mask[r0:r1, c0:c1])
    return mask, outside, too_small


def geometry_mask(geometry: BaseGeometry | None, transform: Affine, shape: tuple[int, int]) -> np.ndarray:
    """True for pixels whose centre lies inside ``geometry`` (all True when it is None)."""
    if geometry is None:
        return np.ones(shape, dtype=bool)
    if geometry.is_empty:
        return np.zeros(shape, dtype=bool)
    return features.geometry_mask(
        [geometry], out_shape=shape, transform=transform, invert=True, all_touched=False
    )
