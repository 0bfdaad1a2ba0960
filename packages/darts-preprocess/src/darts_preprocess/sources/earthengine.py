"""Google Earth Engine access, shared by the Sentinel-2 and TCVIS remote sources.

``earthengine-api`` is imported and initialised only when a source actually fetches
(``pip install 'darts-preprocess[remote]'`` and ``earthengine authenticate`` first).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import numpy as np
from odc.geo.geobox import GeoBox

from darts_preprocess.sources._tiles import grid_crs
from darts_preprocess.sources.errors import RemoteSourceError, ServiceUnusableError

logger = logging.getLogger(__name__)

HIGH_VOLUME_URL = "https://earthengine-highvolume.googleapis.com"
MASKED_VALUE = -32768.0
"""Stand-in for masked Earth Engine pixels in transit (JSON has no NaN); NaN once received."""
BLOCK_PX = 1024
"""Side of the blocks requested through ``computePixels`` (below its 48 MB per request limit)."""


def _import_ee() -> Any:
    try:
        import ee
    except ImportError as err:  # pragma: no cover - installed in the workspace
        raise ServiceUnusableError(
            "earthengine-api is not installed; install it with `pip install 'darts-preprocess[remote]'`"
        ) from err
    return ee


@functools.cache
def init_earthengine(project: str | None, high_volume: bool = False) -> Any:
    """Import and initialise Earth Engine once per (project, endpoint); return the ``ee`` module."""
    ee = _import_ee()
    url = HIGH_VOLUME_URL if high_volume else None
    try:
        ee.Initialize(project=project, opt_url=url)
    except Exception as err:
        raise ServiceUnusableError(
            f"Earth Engine could not be initialised for ee-project {project!r}: {err}. "
            "Run `earthengine authenticate`, set ee-project, or provide the data in the local cache."
        ) from err
    logger.info("Earth Engine initialised (project %s, high volume %s)", project, high_volume)
    return ee


def _grid_spec(geobox: GeoBox) -> dict[str, Any]:
    a = geobox.affine
    grid: dict[str, Any] = {
        "dimensions": {"width": geobox.shape.x, "height": geobox.shape.y},
        "affineTransform": {
            "scaleX": a.a,
            "shearX": a.b,
            "translateX": a.c,
            "shearY": a.d,
            "scaleY": a.e,
            "translateY": a.f,
        },
    }
    crs = grid_crs(geobox)
    if crs.epsg is not None:
        grid["crsCode"] = f"EPSG:{crs.epsg}"
    else:
        grid["crsWkt"] = crs.to_wkt()
    return grid


def compute_pixels(ee: Any, image: Any, geobox: GeoBox, bands: list[str]) -> np.ndarray:
    """Pixels of an ``ee.Image`` on ``geobox`` as float32 ``[len(bands), h, w]`` (masked -> NaN)."""
    h, w = geobox.shape.yx
    out = np.full((len(bands), h, w), np.nan, dtype=np.float32)
    image = image.select(bands).toFloat().unmask(MASKED_VALUE, False)
    for row in range(0, h, BLOCK_PX):
        for col in range(0, w, BLOCK_PX):
            block = geobox[row : min(row + BLOCK_PX, h), col : min(col + BLOCK_PX, w)]
            request = {"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": _grid_spec(block)}
            try:
                pixels = ee.data.computePixels(request)
            except Exception as err:
                raise RemoteSourceError(f"Earth Engine computePixels failed: {err}") from err
            bh, bw = block.shape.yx
            for i, band in enumerate(bands):
                out[i, row : row + bh, col : col + bw] = pixels[band]
    out[out == MASKED_VALUE] = np.nan
    return out
