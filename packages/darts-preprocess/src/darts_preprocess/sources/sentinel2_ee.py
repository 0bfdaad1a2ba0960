"""Sentinel-2 L2A from Earth Engine (``COPERNICUS/S2_SR_HARMONIZED``) into the local folder layout.

:class:`Sentinel2EarthEngine` fills ``sentinel2-dir`` with one folder per scene,
``<id>/<id>_SR.tif`` (uint16 B2, B3, B4, B8 = blue, green, red, nir; 0 = no data; tag
``BOA_ADD_OFFSET=0`` because the harmonized collection already removed the 04.00 offset) and
``<id>/<id>_SCL.tif``, at 10 m in the scene's UTM CRS over an area of interest, so
:func:`darts_preprocess.sources.sentinel2.load_s2_scene` reads them like any local scene.
Earth Engine is imported and initialised only when a scene is actually fetched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from odc.geo import CRS
from odc.geo.geobox import GeoBox
from odc.geo.geom import Geometry

from darts_preprocess.sources._tiles import write_geotiff
from darts_preprocess.sources.earthengine import compute_pixels, init_earthengine
from darts_preprocess.sources.errors import RemoteSourceError
from darts_preprocess.sources.sentinel2 import S2SceneRef, discover_s2_scenes

logger = logging.getLogger(__name__)

S2_COLLECTION = "COPERNICUS/S2_SR_HARMONIZED"
S2_BANDS: tuple[str, ...] = ("B2", "B3", "B4", "B8")
S2_RESOLUTION_M = 10.0


@dataclass(frozen=True)
class Sentinel2EarthEngine:
    """Fetch Sentinel-2 L2A scenes by Earth Engine id (``system:index``) into a local folder."""

    project: str | None = None
    """Earth Engine (Google Cloud) project: the ``ee-project`` option."""
    high_volume: bool = False
    """Use the high-volume endpoint (``ee-use-highvolume``)."""
    collection: str = S2_COLLECTION

    def search(self, aoi: Geometry, start_date: str, end_date: str, max_cloud_pct: float = 50.0) -> list[str]:
        """Ids of the scenes intersecting ``aoi`` between two ISO dates (end exclusive)."""
        ee = init_earthengine(self.project, self.high_volume)
        region = ee.Geometry(aoi.to_crs("EPSG:4326").json)
        images = (
            ee.ImageCollection(self.collection)
            .filterBounds(region)
            .filterDate(start_date, end_date)
            .filter(ee.Filter.lte("CLOUDY_PIXEL_PERCENTAGE", max_cloud_pct))
        )
        try:
            return sorted(images.aggregate_array("system:index").getInfo())
        except Exception as err:
            raise RemoteSourceError(f"Earth Engine search of {self.collection} failed: {err}") from err

    def _grid(self, ee: object, image: object, aoi: Geometry | None) -> GeoBox:
        try:
            projection = image.select("B2").projection().getInfo()  # type: ignore[attr-defined]
            if aoi is None:  # the whole scene: its footprint
                aoi = Geometry(image.geometry().getInfo(), crs="EPSG:4326")  # type: ignore[attr-defined]
        except Exception as err:
            raise RemoteSourceError(f"Earth Engine could not describe the scene: {err}") from err
        crs = CRS(projection["crs"])
        return GeoBox.from_bbox(aoi.to_crs(crs).boundingbox, crs, resolution=S2_RESOLUTION_M, tight=False)

    def fetch_scene(self, scene_id: str, aoi: Geometry | None, sentinel2_dir: Path | str) -> S2SceneRef:
        """Download one scene over ``aoi`` (None: the whole scene) into ``sentinel2_dir/<scene_id>/``.

        Kept if already there.
        """
        folder = Path(sentinel2_dir) / scene_id
        sr_path, scl_path = folder / f"{scene_id}_SR.tif", folder / f"{scene_id}_SCL.tif"
        if not (sr_path.is_file() and scl_path.is_file()):
            ee = init_earthengine(self.project, self.high_volume)
            image = ee.Image(f"{self.collection}/{scene_id}")
            grid = self._grid(ee, image, aoi)
            data = compute_pixels(ee, image, grid, [*S2_BANDS, "SCL"])
            sr = np.nan_to_num(data[:4], nan=0.0).clip(0, 65535).astype(np.uint16)
            scl = np.nan_to_num(data[4], nan=0.0).astype(np.uint8)[None]
            write_geotiff(scl_path, scl, grid, nodata=0, descriptions=("SCL",))
            names = ("blue", "green", "red", "nir")
            write_geotiff(sr_path, sr, grid, nodata=0, descriptions=names, tags={"BOA_ADD_OFFSET": "0"})
            logger.info("fetched Sentinel-2 scene %s into %s", scene_id, folder)
        refs = [r for r in discover_s2_scenes(folder.parent).scenes if r.scene_id == scene_id]
        return refs[0]
