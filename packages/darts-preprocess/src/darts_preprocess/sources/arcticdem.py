"""ArcticDEM elevation from a local tile cache, filled from the PGC STAC catalogue when it lacks an area.

Cache layout (``arcticdem-dir``): a darts-nextgen datacube (:mod:`.datacube_zarr2`,
:mod:`.datacube_icechunk`) and / or single-band GeoTIFFs, elevation in metres, any CRS and
resolution, nodata set in the file (see :mod:`darts_preprocess.sources._tiles`). The DEM is
warped (cubic) onto the scene grid padded by ``buffer_m`` on every side, so a TPI with that
outer radius has real neighbours at the scene edge.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
import xarray as xr
from odc.geo.geobox import GeoBox
from odc.geo.xr import xr_coords
from rasterio.warp import Resampling, reproject

from darts_preprocess.sources._remote import RemoteRaster, RetryPolicy
from darts_preprocess.sources._tiles import crs_string, grid_crs
from darts_preprocess.sources.aux_read import read_aux
from darts_preprocess.sources.datacube_layout import find_arcticdem_cube
from darts_preprocess.sources.errors import RemoteNoDataError, RemoteSourceError, ServiceUnusableError

logger = logging.getLogger(__name__)

PGC_STAC_URL = "https://stac.pgc.umn.edu/api/v1/"


@dataclass(frozen=True)
class ArcticDEMStac:
    """ArcticDEM mosaics from the Polar Geospatial Center STAC API (COGs read window by window)."""

    collection: str = "arcticdem-mosaics-v4.1-2m"
    """STAC collection: ``arcticdem-mosaics-v4.1-2m`` (PlanetScope) or ``-10m`` (Sentinel-2)."""
    url: str = field(default_factory=lambda: PGC_STAC_URL)
    asset: str = "dem"
    timeout_s: float = 60.0
    name: str = "arcticdem-stac"
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    """Retries of a failed fetch (a connection failure is never retried)."""

    def _items(self, geobox: GeoBox) -> list:
        try:
            import pystac_client
        except ImportError as err:  # pragma: no cover - installed in the workspace
            raise ServiceUnusableError(
                "pystac-client is not installed; `pip install 'darts-preprocess[remote]'`"
            ) from err
        from pystac_client.stac_api_io import StacApiIO

        try:  # no retries inside pystac-client (each would log its own warning): see fetch_with_retries
            stac_io = StacApiIO(timeout=self.timeout_s, max_retries=0)
            client = pystac_client.Client.open(self.url, stac_io=stac_io)
            search = client.search(collections=[self.collection], intersects=geobox.geographic_extent.json)
            return list(search.items())
        except Exception as err:
            raise RemoteSourceError(f"ArcticDEM STAC {self.url} is unreachable or failed: {err}") from err

    def fetch(self, geobox: GeoBox) -> tuple[np.ndarray, GeoBox, list[str]]:
        """Mosaic every intersecting STAC item onto ``geobox`` (cubic); NaN where none has data."""
        items = self._items(geobox)
        if not items:
            raise RemoteNoDataError(f"no item of {self.collection} at {self.url} intersects the scene")
        out = np.full(geobox.shape.yx, np.nan, dtype=np.float32)
        for item in items:
            href = item.assets[self.asset].href
            layer = np.full(geobox.shape.yx, np.nan, dtype=np.float32)
            try:
                with rasterio.open(href) as src:
                    reproject(
                        rasterio.band(src, 1),
                        layer,
                        dst_transform=geobox.affine,
                        dst_crs=grid_crs(geobox).to_wkt(),
                        dst_nodata=np.nan,
                        resampling=Resampling.cubic,
                    )
            except rasterio.RasterioIOError as err:
                raise RemoteSourceError(f"could not read ArcticDEM tile {href}: {err}") from err
            empty = np.isnan(out)
            out[empty] = layer[empty]
        return out[None], geobox, ["elevation"]


def buffered_geobox(geobox: GeoBox, buffer_m: float) -> GeoBox:
    """``geobox`` padded by ``ceil(buffer_m / pixel size)`` pixels on every side."""
    if buffer_m < 0:
        raise ValueError(f"buffer_m must be >= 0, got {buffer_m}")
    res = min(abs(geobox.resolution.x), abs(geobox.resolution.y))
    pad = math.ceil(buffer_m / res) if buffer_m > 0 else 0
    return geobox.pad(pad) if pad else geobox


DEFAULT_ARCTICDEM_REMOTE = ArcticDEMStac()


def collection_resolution_m(collection: str) -> int:
    """Pixel size of an ArcticDEM mosaic collection (``arcticdem-mosaics-v4.1-10m`` -> 10)."""
    return int(collection.rsplit("-", 1)[-1].removesuffix("m"))


def load_arcticdem(
    geobox: GeoBox,
    arcticdem_dir: Path | str,
    buffer_m: float = 0.0,
    *,
    remote: RemoteRaster | None = DEFAULT_ARCTICDEM_REMOTE,
    resolution_m: int = 2,
) -> xr.DataArray:
    """Elevation (metres, float32, NaN = no data) on ``geobox`` padded by ``buffer_m``.

    Reads, in this order, the darts-nextgen datacube of ``resolution_m`` in the folder (zarr v2
    ``datacube_<res>m_v4.1.zarr`` or icechunk ``arcticdem_<res>m.icechunk``) when it has loaded the
    area, the GeoTIFF tiles when they cover it, else fetches the area from ``remote`` (STAC by
    default) into the folder as a tile. ``remote=None`` keeps it offline: a folder lacking the
    area then raises :class:`AuxDataMissingError` naming the folder and the missing extent. The
    source that served the grid is in ``attrs["source"]``.
    """
    cache = Path(arcticdem_dir)
    grid = buffered_geobox(geobox, buffer_m)
    cube = find_arcticdem_cube(cache, resolution_m)
    data, source = read_aux(cache, grid, 1, "ArcticDEM", cube, remote)
    coords = xr_coords(grid, crs_coord_name="spatial_ref")
    attrs = {"units": "m", "source": source}
    dem = xr.DataArray(data[0], dims=("y", "x"), coords=coords, name="dem", attrs=attrs)
    return dem.rio.write_crs(crs_string(grid.crs), grid_mapping_name="spatial_ref", inplace=True)
