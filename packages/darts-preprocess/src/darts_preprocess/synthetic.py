"""Synthetic PlanetScope collections on REAL RTS label sites, for tests and ``darts quickstart``.

:func:`generate_planet_collection` writes, under ``out_dir``::

    planet/                     scene folders as Planet delivers them (PSScene at the top level,
                                PSOrthoTile under a tile-id folder) + one stray manifest file
      <PSScene id>/<id>_3B_AnalyticMS_SR.tif, <id>_3B_udm2.tif
      <tile id>/<PSOrthoTile id>/<id>_BGRN_SR_clip.tif, <id>_udm2_clip.tif
    arcticdem/                  ArcticDEM cache: one float32 GeoTIFF per scene (2 m, UTM, nodata -9999)
    tcvis/                      TCVIS cache: one uint8 3-band GeoTIFF per scene (~30 m, EPSG:4326)
    admin/geoBoundaries-SYN-ADM2.gpkg   shapeName polygons; the test region covers the Taimyr sites
    labels/                     only when ``labels_dir`` is None: the embedded real-label subset as gpkg

Each scene is ``size_px`` x ``size_px`` at 3 m in the local UTM zone, around a real label cluster
of a real image (see :mod:`darts_preprocess._synthetic_sites`), so the real polygons fall inside.
The polygons are burnt in as bright, low-NIR patches (and slumps in the DEM, a TCVIS change);
each udm2 has a cloud, its shadow, haze and an unusable corner. Same seed, same bytes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
from affine import Affine
from odc.geo.geobox import GeoBox
from pyproj import Transformer
from rasterio.features import rasterize
from shapely.geometry import box

from darts_preprocess import _synthetic_rasters as px
from darts_preprocess._synthetic_sites import (
    SITE_SCENES,
    Site,
    embedded_labels_dir,
    find_sites,
    labels_of,
    read_label_files,
    read_vector,
    utm_epsg,
)
from darts_preprocess.errors import DartsInputError
from darts_preprocess.sources._tiles import reproject_geom, write_geotiff
from darts_preprocess.sources.planet import parse_planet_id

logger = logging.getLogger(__name__)

TEST_REGION = "Taymyrsky Dolgano-Nenetsky District"
PIXEL_SIZE_M = 3.0
DEM_RESOLUTION_M = 2.0
DEM_NODATA = -9999.0
TCVIS_RESOLUTION_M = 30.0
_FIXED_DATE = "2024-01-01T00:00:00Z"
# Coarse boxes (lon_min, lat_min, lon_max, lat_max) standing in for real admin polygons.
TAIMYR_BOX = (85.0, 72.0, 92.0, 74.5)
OTHER_REGIONS: tuple[tuple[str, str, tuple[float, float, float, float]], ...] = (
    ("Bulunsky District", "ADM2", (124.0, 70.5, 132.0, 74.0)),
    ("Tazovsky District", "ADM2", (74.0, 66.5, 82.0, 72.5)),
    ("Krasnoyarsk Krai", "ADM1", (80.0, 68.0, 100.0, 77.5)),
)


@dataclass(frozen=True)
class SyntheticCollection:
    """Where a generated collection lives (feed these to the preprocessing options)."""

    data_dir: Path
    labels_dir: Path
    arcticdem_dir: Path
    tcvis_dir: Path
    admin_dir: Path
    test_region: str
    """Admin ``shapeName`` whose polygon covers the Taimyr scenes."""
    scene_ids: tuple[str, ...]


@contextlib.contextmanager
def _fixed_gpkg_timestamp() -> Iterator[None]:
    """Make GeoPackage writes reproducible (GDAL stamps the write time into gpkg_contents)."""
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _FIXED_DATE})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


def _write_gpkg(frame: gpd.GeoDataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.partial.gpkg")
    tmp.unlink(missing_ok=True)
    with _fixed_gpkg_timestamp():
        frame.to_file(tmp, driver="GPKG", layer=path.stem)
    os.replace(tmp, path)


def _scene_grid(site: Site, size_px: int, rng: np.random.Generator) -> GeoBox:
    epsg = utm_epsg(site.anchor_lon, site.anchor_lat)
    x, y = Transformer.from_crs(4326, epsg, always_xy=True).transform(site.anchor_lon, site.anchor_lat)
    jitter = rng.uniform(-1.0, 1.0, 2) * size_px * PIXEL_SIZE_M / 10.0
    left = np.floor((x + jitter[0]) / PIXEL_SIZE_M - size_px / 2) * PIXEL_SIZE_M
    top = np.floor((y + jitter[1]) / PIXEL_SIZE_M + size_px / 2) * PIXEL_SIZE_M
    return GeoBox((size_px, size_px), Affine(PIXEL_SIZE_M, 0, left, 0, -PIXEL_SIZE_M, top), f"EPSG:{epsg}")


def _burn(polygons: gpd.GeoDataFrame, grid: GeoBox) -> np.ndarray:
    """Rasterise label polygons (pixel centres) onto a grid; uint8 0/1."""
    shapes = polygons.to_crs(grid.crs.to_wkt()).geometry.make_valid()
    shapes = [g for g in shapes if g is not None and not g.is_empty]
    if not shapes:
        return np.zeros(grid.shape.yx, dtype=np.uint8)
    return rasterize([(g, 1) for g in shapes], out_shape=grid.shape.yx, transform=grid.affine, dtype="uint8")


def _scene_files(data_dir: Path, scene_id: str) -> tuple[Path, Path]:
    product, _ = parse_planet_id(scene_id) or ("PSScene", "")
    if product == "PSOrthoTile":
        folder = data_dir / scene_id.split("_")[1] / scene_id
        return folder / f"{scene_id}_BGRN_SR_clip.tif", folder / f"{scene_id}_udm2_clip.tif"
    folder = data_dir / scene_id
    return folder / f"{scene_id}_3B_AnalyticMS_SR.tif", folder / f"{scene_id}_3B_udm2.tif"


def _write_scene(
    out: SyntheticCollection, site: Site, rts: gpd.GeoDataFrame, grid: GeoBox, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    sr_path, udm2_path = _scene_files(out.data_dir, site.scene_id)
    masks = px.quality_masks(rng, grid.shape.yx)
    sr = px.reflectance(rng, _burn(rts, grid), masks)
    write_geotiff(sr_path, sr, grid, nodata=0, descriptions=("blue", "green", "red", "nir"))
    udm2_names = ("clear", "snow", "shadow", "light_haze", "heavy_haze", "cloud", "confidence", "unusable")
    write_geotiff(udm2_path, px.udm2(rng, masks), grid, descriptions=udm2_names)


def _write_dem(
    out: SyntheticCollection, site: Site, rts: gpd.GeoDataFrame, grid: GeoBox, buffer_m: float, seed: int
):
    rng = np.random.default_rng(seed)
    b = grid.boundingbox
    # A 2 m grid shifted by 1 m against the 3 m scene grid, so loading really resamples.
    left, top = b.left - buffer_m - 1.0, b.top + buffer_m + 1.0
    n = int(np.ceil((b.right - b.left + 2 * buffer_m + 2.0) / DEM_RESOLUTION_M))
    dem_grid = GeoBox((n, n), Affine(DEM_RESOLUTION_M, 0, left, 0, -DEM_RESOLUTION_M, top), grid.crs)
    dem = px.elevation(rng, _burn(rts, dem_grid), DEM_RESOLUTION_M)
    path = out.arcticdem_dir / f"synthetic_{site.scene_id}_2m_dem.tif"
    write_geotiff(path, dem[None], dem_grid, nodata=DEM_NODATA, descriptions=("elevation",))


def _write_tcvis(
    out: SyntheticCollection, site: Site, rts: gpd.GeoDataFrame, grid: GeoBox, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    left, bottom, right, top = reproject_geom(grid.extent.geom.buffer(400.0), grid.crs, "EPSG:4326").bounds
    lat = np.deg2rad(site.anchor_lat)
    res_y = TCVIS_RESOLUTION_M / 111_320.0
    res_x = TCVIS_RESOLUTION_M / (111_320.0 * np.cos(lat))
    w, h = int(np.ceil((right - left) / res_x)), int(np.ceil((top - bottom) / res_y))
    tc_grid = GeoBox((h, w), Affine(res_x, 0, left, 0, -res_y, top), "EPSG:4326")
    path = out.tcvis_dir / f"synthetic_{site.scene_id}_tcvis.tif"
    names = ("tc_brightness", "tc_greenness", "tc_wetness")
    write_geotiff(path, px.tcvis(rng, _burn(rts, tc_grid)), tc_grid, descriptions=names)


def _write_admin(admin_dir: Path, test_region: str) -> Path:
    rows = [(test_region, "ADM2", TAIMYR_BOX), *OTHER_REGIONS]
    frame = gpd.GeoDataFrame(
        {"shapeName": [r[0] for r in rows], "shapeType": [r[1] for r in rows]},
        geometry=[box(*r[2]).segmentize(0.25) for r in rows],
        crs="EPSG:4326",
    )
    path = admin_dir / "geoBoundaries-SYN-ADM2.gpkg"
    _write_gpkg(frame, path)
    return path


def materialize_embedded_labels(target_dir: Path) -> Path:
    """Write the embedded real-label subset as ``TrainingLabel*.gpkg`` / ``ImageFootprints*.gpkg`` files."""
    source = embedded_labels_dir()
    for path in sorted(source.rglob("*.geojson.gz")):
        rel = path.relative_to(source)
        _write_gpkg(read_vector(path), target_dir / rel.parent / rel.name.replace(".geojson.gz", ".gpkg"))
    for extra in ("CITATION.cff", "README.md"):
        if (source / extra).is_file():
            (target_dir / extra).write_text((source / extra).read_text())
    return target_dir


def _check_args(n_scenes: int, size_px: int) -> None:
    if not 1 <= n_scenes <= len(SITE_SCENES):
        raise DartsInputError(f"n_scenes must be in 1..{len(SITE_SCENES)}, got {n_scenes}")
    if not 32 <= size_px <= 4096:
        raise DartsInputError(f"size_px must be in 32..4096, got {size_px}")


def generate_planet_collection(
    out_dir: Path | str,
    labels_dir: Path | str | None = None,
    n_scenes: int = 6,
    size_px: int = 128,
    seed: int = 42,
    test_region: str = TEST_REGION,
    dem_buffer_m: float = 300.0,
) -> SyntheticCollection:
    """Generate PlanetScope-like scenes + ArcticDEM / TCVIS caches + admin file on real label sites.

    ``labels_dir`` is a folder of the real label gpkgs; None uses the small embedded subset (copied
    to ``out_dir/labels``). Scenes are the first ``n_scenes`` of :data:`SITE_SCENES` (two Taimyr
    scenes inside ``test_region``, a negative scene, a truncated-id iteration005 scene, ...).
    ``dem_buffer_m`` is how far the DEM tiles reach beyond each scene (>= the TPI outer radius).
    """
    _check_args(n_scenes, size_px)
    root = Path(out_dir)
    source = Path(labels_dir) if labels_dir is not None else embedded_labels_dir()
    labels, footprints = read_label_files(source)
    sites = find_sites(SITE_SCENES[:n_scenes], labels, footprints)
    out = SyntheticCollection(
        data_dir=root / "planet",
        labels_dir=Path(labels_dir) if labels_dir is not None else root / "labels",
        arcticdem_dir=root / "arcticdem",
        tcvis_dir=root / "tcvis",
        admin_dir=root / "admin",
        test_region=test_region,
        scene_ids=tuple(s.scene_id for s in sites),
    )
    for i, site in enumerate(sites):
        rts = labels_of(site.scene_id, labels)
        grid = _scene_grid(site, size_px, np.random.default_rng([seed, i, 0]))
        _write_scene(out, site, rts, grid, [seed, i, 1])
        _write_dem(out, site, rts, grid, dem_buffer_m, [seed, i, 2])
        _write_tcvis(out, site, rts, grid, [seed, i, 3])
        logger.debug("synthetic scene %s (%s) at %s", site.scene_id, site.iteration, grid.extent.boundingbox)
    manifest = {"order": "synthetic", "seed": seed, "scenes": list(out.scene_ids)}
    (out.data_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    _write_admin(out.admin_dir, test_region)
    if labels_dir is None:
        materialize_embedded_labels(out.labels_dir)
    logger.info("generated %d synthetic PlanetScope scenes under %s", len(sites), root)
    return out
