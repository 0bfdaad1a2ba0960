"""TCVIS (Landsat tasseled-cap trend 2000-2019, uint8) from a local tile cache or Earth Engine.

Cache layout (``tcvis-dir``): a darts-nextgen datacube (:mod:`.datacube_zarr2`,
:mod:`.datacube_icechunk`) and / or 3-band GeoTIFFs (brightness, greenness, wetness trend,
uint8 0..255), any CRS and resolution (see :mod:`darts_preprocess.sources._tiles`). The bands are
warped (cubic, clipped to 0..255) onto the scene grid.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr
from odc.geo.geobox import GeoBox
from odc.geo.xr import xr_coords

from darts_preprocess.sources._remote import RemoteRaster, RetryPolicy
from darts_preprocess.sources._tiles import crs_string
from darts_preprocess.sources.aux_read import read_aux
from darts_preprocess.sources.datacube_layout import find_tcvis_cube
from darts_preprocess.sources.earthengine import compute_pixels, init_earthengine

logger = logging.getLogger(__name__)

TCVIS_VARS: tuple[str, ...] = ("tc_brightness", "tc_greenness", "tc_wetness")
TCVIS_ASSET = "users/ingmarnitze/TCTrend_SR_2000-2019_TCVIS"
TCVIS_RESOLUTION_M = 30.0


@dataclass(frozen=True)
class TcvisEarthEngine:
    """The TCVIS mosaic on Earth Engine, fetched at 30 m over the scene extent."""

    project: str | None = None
    """Earth Engine (Google Cloud) project, the ``ee-project`` option."""
    high_volume: bool = False
    """Use the high-volume endpoint (``ee-use-highvolume``)."""
    asset: str = TCVIS_ASSET
    bands: tuple[str, str, str] = ("TCB_slope", "TCG_slope", "TCW_slope")
    name: str = "tcvis-ee"
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    """Retries of a failed fetch (a connection failure is never retried)."""

    def fetch(self, geobox: GeoBox) -> tuple[np.ndarray, GeoBox, list[str]]:
        """The TCVIS bands on a 30 m grid (in the scene CRS) enclosing ``geobox``, uint8."""
        ee = init_earthengine(self.project, self.high_volume)
        res = max(TCVIS_RESOLUTION_M, abs(geobox.resolution.x))
        grid = GeoBox.from_bbox(geobox.boundingbox.buffered(2 * res), geobox.crs, resolution=res)
        image = ee.ImageCollection(self.asset).mosaic()
        data = compute_pixels(ee, image, grid, list(self.bands))
        return np.nan_to_num(np.clip(data, 0, 255)).astype(np.uint8), grid, list(TCVIS_VARS)


DEFAULT_TCVIS_REMOTE = TcvisEarthEngine()


def load_tcvis(
    geobox: GeoBox, tcvis_dir: Path | str, *, remote: RemoteRaster | None = DEFAULT_TCVIS_REMOTE
) -> xr.Dataset:
    """TCVIS brightness, greenness and wetness (float32 0..255, NaN = no data) on ``geobox``.

    Reads the darts-nextgen datacube in the folder (zarr v2 ``tcvis_2000-2019.zarr`` or icechunk
    ``TCTrend2019.icechunk``) when it has loaded the area, else the GeoTIFF tiles; when neither
    covers ``geobox``, fetches the area from ``remote``
    (Earth Engine by default; pass ``TcvisEarthEngine(project=...)`` for an ee-project) into the
    cache first. ``remote=None`` keeps it offline: a cache lacking the area then raises
    :class:`AuxDataMissingError` naming the folder and the missing extent. The source that
    served the grid is in ``attrs["source"]``.
    """
    cache = Path(tcvis_dir)
    data, source = read_aux(cache, geobox, 3, "TCVIS", find_tcvis_cube(cache), remote)
    np.clip(data, 0.0, 255.0, out=data)
    coords = xr_coords(geobox, crs_coord_name="spatial_ref")
    variables = {name: (("y", "x"), data[i]) for i, name in enumerate(TCVIS_VARS)}
    ds = xr.Dataset(variables, coords=coords, attrs={"source": source})
    return ds.rio.write_crs(crs_string(geobox.crs), grid_mapping_name="spatial_ref", inplace=True)
