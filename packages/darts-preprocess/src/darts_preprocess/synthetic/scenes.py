"""Writers of one synthetic scene: a PlanetScope folder or a reference-layout Sentinel-2 sample."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from affine import Affine
from odc.geo.geobox import GeoBox
from pyproj import Transformer
from rasterio.features import rasterize
from shapely.geometry import box

from darts_core.atomic import atomic_path
from darts_preprocess.sources._tiles import grid_crs, write_geotiff
from darts_preprocess.sources.planet import parse_planet_id
from darts_preprocess.sources.sentinel2 import BASELINE_04_DATE
from darts_preprocess.synthetic import rasters as px
from darts_preprocess.synthetic.sites import Site, utm_epsg

_FIXED_DATE = "2024-01-01T00:00:00Z"
_LAT_BANDS = "CDEFGHJKLMNPQRSTUVWX"
SR_NAMES: tuple[str, ...] = ("blue", "green", "red", "nir")
UDM2_NAMES: tuple[str, ...] = (
    "clear",
    "snow",
    "shadow",
    "light_haze",
    "heavy_haze",
    "cloud",
    "confidence",
    "unusable",
)


@contextlib.contextmanager
def _fixed_gpkg_timestamp() -> Iterator[None]:
    """Make GeoPackage writes reproducible (GDAL stamps the write time into gpkg_contents)."""
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _FIXED_DATE})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


def write_gpkg(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Write a GeoPackage reproducibly and atomically (temp name, then rename)."""
    with atomic_path(path) as tmp, _fixed_gpkg_timestamp():
        frame.to_file(tmp, driver="GPKG", layer=path.stem, geometry_type="Polygon" if frame.empty else None)


def scene_grid(site: Site, size_px: int, pixel_m: float, rng: np.random.Generator) -> GeoBox:
    """A ``size_px`` square grid in the site's UTM zone around its anchor, jittered by up to size/10."""
    epsg = utm_epsg(site.anchor_lon, site.anchor_lat)
    x, y = Transformer.from_crs(4326, epsg, always_xy=True).transform(site.anchor_lon, site.anchor_lat)
    jitter = rng.uniform(-1.0, 1.0, 2) * size_px * pixel_m / 10.0
    left = np.floor((x + jitter[0]) / pixel_m - size_px / 2) * pixel_m
    top = np.floor((y + jitter[1]) / pixel_m + size_px / 2) * pixel_m
    return GeoBox((size_px, size_px), Affine(pixel_m, 0, left, 0, -pixel_m, top), f"EPSG:{epsg}")


def burn(polygons: gpd.GeoDataFrame, grid: GeoBox) -> np.ndarray:
    """Rasterise label polygons (pixel centres) onto a grid; uint8 0/1."""
    geoms = polygons.to_crs(grid_crs(grid).to_wkt()).geometry.make_valid()
    shapes = [g for g in geoms if g is not None and not g.is_empty]
    if not shapes:
        return np.zeros(grid.shape.yx, dtype=np.uint8)
    return rasterize([(g, 1) for g in shapes], out_shape=grid.shape.yx, transform=grid.affine, dtype="uint8")


def write_planet_scene(
    data_dir: Path, site: Site, rts: gpd.GeoDataFrame, grid: GeoBox, seed: list[int]
) -> str:
    """A PSScene folder (top level) or PSOrthoTile folder (under its tile id) with SR + udm2."""
    scene_id = site.scene_id
    product, _ = parse_planet_id(scene_id) or ("PSScene", "")
    if product == "PSOrthoTile":
        folder = data_dir / scene_id.split("_")[1] / scene_id
        sr_path, udm2_path = folder / f"{scene_id}_BGRN_SR_clip.tif", folder / f"{scene_id}_udm2_clip.tif"
    else:
        folder = data_dir / scene_id
        sr_path, udm2_path = folder / f"{scene_id}_3B_AnalyticMS_SR.tif", folder / f"{scene_id}_3B_udm2.tif"
    rng = np.random.default_rng(seed)
    masks = px.quality_masks(rng, grid.shape.yx)
    sr = px.reflectance(rng, burn(rts, grid), masks)
    write_geotiff(sr_path, sr, grid, nodata=0, descriptions=SR_NAMES)
    write_geotiff(udm2_path, px.udm2(rng, masks), grid, descriptions=UDM2_NAMES)
    return scene_id


def s2_sample_id(site: Site, index: int, grid: GeoBox) -> str:
    """A Sentinel-2 L2A product-style id on the site's date (baseline 05.00 from 2022-01-25, else 02.14)."""
    _, date = parse_planet_id(site.scene_id) or ("", "2021-07-01")
    compact = date.replace("-", "")
    baseline = "N0500" if date >= BASELINE_04_DATE else "N0214"
    zone = (grid_crs(grid).epsg or 32600) % 100
    band = _LAT_BANDS[min(int((site.anchor_lat + 80) // 8), len(_LAT_BANDS) - 1)]
    square = chr(ord("A") + index % 26) * 2
    tile = f"T{zone:02d}{band}{square}"
    return f"S2B_MSIL2A_{compact}T{100000 + index:06d}_{baseline}_R{index:03d}_{tile}_{compact}T120000"


def _scl(masks: dict[str, np.ndarray], rts: np.ndarray) -> np.ndarray:
    scl = np.where(rts > 0, 5, 4).astype(np.uint8)  # not vegetated / vegetation
    scl[masks["haze"]] = 8  # cloud, medium probability
    scl[masks["shadow"]] = 3
    scl[masks["cloud"]] = 9
    scl[masks["unusable"]] = 0
    return scl


def write_s2_sample(
    data_dir: Path, site: Site, rts: gpd.GeoDataFrame, grid: GeoBox, seed: list[int], index: int
) -> str:
    """A reference-layout sample: ``<id>_SR.tif`` (10 m), ``<id>_SCL.tif`` (20 m) and ``<id>.gpkg`` labels."""
    sample = s2_sample_id(site, index, grid)
    folder = data_dir / sample
    rng = np.random.default_rng(seed)
    masks = px.quality_masks(rng, grid.shape.yx)
    mask = burn(rts, grid)
    sr = px.reflectance(rng, mask, masks)
    if "_N05" in sample:  # processing baseline 04.00+: L2A stores reflectance x 10000 + 1000
        sr = np.where(sr > 0, sr + 1000, 0).astype(np.uint16)
    write_geotiff(folder / f"{sample}_SR.tif", sr, grid, nodata=0, descriptions=SR_NAMES)
    a = grid.affine
    scl_grid = GeoBox(((grid.shape.y + 1) // 2, (grid.shape.x + 1) // 2), a @ Affine.scale(2), grid.crs)
    scl = _scl(masks, mask)[::2, ::2]
    write_geotiff(folder / f"{sample}_SCL.tif", scl[None], scl_grid, descriptions=("SCL",))
    window = box(*grid.boundingbox)
    own = rts.to_crs(grid_crs(grid).to_wkt())
    own = own[own.geometry.intersects(window)]
    labels = gpd.GeoDataFrame(
        {"label": pd.Series(1, index=own.index, dtype="int32"), "image_id": own["image_id"].astype(str)},
        geometry=own.geometry.make_valid(),
        crs=grid_crs(grid).to_wkt(),
    )
    write_gpkg(labels.reset_index(drop=True), folder / f"{sample}.gpkg")
    return sample
