"""Synthetic PlanetScope / Sentinel-2 collections on REAL RTS label sites, for tests and quickstart.

:func:`generate_planet_collection` writes, under ``out_dir`` (:func:`generate_s2_collection` the
same with ``sentinel2/`` reference-layout samples instead of ``planet/``)::

    planet/                     scene folders as Planet delivers them (PSScene at the top level,
                                PSOrthoTile under a tile-id folder) + one stray manifest file
      <PSScene id>/<id>_3B_AnalyticMS_SR.tif, <id>_3B_udm2.tif
      <tile id>/<PSOrthoTile id>/<id>_BGRN_SR_clip.tif, <id>_udm2_clip.tif
    arcticdem/                  ArcticDEM cache: one float32 GeoTIFF per scene (2 m, UTM, nodata -9999)
    tcvis/                      TCVIS cache: one uint8 3-band GeoTIFF per scene (~30 m, EPSG:4326)
    admin/geoBoundaries-SYN-ADM2.gpkg   shapeName polygons; the test region covers the Taimyr sites
    labels/                     only when ``labels_dir`` is None: the embedded real-label subset as gpkg

Each scene is ``size_px`` x ``size_px`` at 3 m in the local UTM zone, around a real label cluster
of a real image (see :mod:`darts_preprocess.synthetic.sites`), so the real polygons fall inside.
The polygons are burnt in as bright, low-NIR patches (and slumps in the DEM, a TCVIS change);
each udm2 has a cloud, its shadow, haze and an unusable corner. Same seed, same bytes.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
from affine import Affine
from odc.geo.geobox import GeoBox
from shapely.geometry import box

from darts_core.atomic import write_text_atomically
from darts_core.errors import DartsInputError
from darts_preprocess.sources._tiles import reproject_geom, write_geotiff
from darts_preprocess.synthetic import rasters as px
from darts_preprocess.synthetic.scenes import (
    burn,
    scene_grid,
    write_gpkg,
    write_planet_scene,
    write_s2_sample,
)
from darts_preprocess.synthetic.sites import (
    SITE_SCENES,
    Site,
    embedded_labels_dir,
    find_sites,
    labels_of,
    read_label_files,
    read_vector,
)

logger = logging.getLogger(__name__)

TEST_REGION = "Taymyrsky Dolgano-Nenetsky District"
PIXEL_SIZE_M = 3.0
S2_PIXEL_SIZE_M = 10.0
MARKER_FILE = ".darts-synthetic"
DEM_RESOLUTION_M = 2.0
DEM_NODATA = -9999.0
TCVIS_RESOLUTION_M = 30.0
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
    """Scene ids as discovery reports them (PlanetScope ids, or Sentinel-2 sample ids)."""
    image_ids: tuple[str, ...] = ()
    """The real PlanetScope images whose label sites the scenes sit on (same order)."""


def _write_dem(
    out: SyntheticCollection,
    site: Site,
    rts: gpd.GeoDataFrame,
    grid: GeoBox,
    buffer_m: float,
    seed: list[int],
) -> None:
    rng = np.random.default_rng(seed)
    b = grid.boundingbox
    # A 2 m grid shifted by 1 m against the 3 m scene grid, so loading really resamples.
    left, top = b.left - buffer_m - 1.0, b.top + buffer_m + 1.0
    n = int(np.ceil((b.right - b.left + 2 * buffer_m + 2.0) / DEM_RESOLUTION_M))
    dem_grid = GeoBox((n, n), Affine(DEM_RESOLUTION_M, 0, left, 0, -DEM_RESOLUTION_M, top), grid.crs)
    dem = px.elevation(rng, burn(rts, dem_grid), DEM_RESOLUTION_M)
    path = out.arcticdem_dir / f"synthetic_{site.scene_id}_2m_dem.tif"
    write_geotiff(path, dem[None], dem_grid, nodata=DEM_NODATA, descriptions=("elevation",))


def _write_tcvis(
    out: SyntheticCollection, site: Site, rts: gpd.GeoDataFrame, grid: GeoBox, seed: list[int]
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
    write_geotiff(path, px.tcvis(rng, burn(rts, tc_grid)), tc_grid, descriptions=names)


def _write_admin(admin_dir: Path, test_region: str) -> Path:
    rows = [(test_region, "ADM2", TAIMYR_BOX), *OTHER_REGIONS]
    frame = gpd.GeoDataFrame(
        {"shapeName": [r[0] for r in rows], "shapeType": [r[1] for r in rows]},
        geometry=[box(*r[2]).segmentize(0.25) for r in rows],
        crs="EPSG:4326",
    )
    path = admin_dir / "geoBoundaries-SYN-ADM2.gpkg"
    write_gpkg(frame, path)
    return path


def materialize_embedded_labels(target_dir: Path) -> Path:
    """Write the embedded real-label subset as ``TrainingLabel*.gpkg`` / ``ImageFootprints*.gpkg`` files."""
    source = embedded_labels_dir()
    for path in sorted(source.rglob("*.geojson.gz")):
        rel = path.relative_to(source)
        write_gpkg(read_vector(path), target_dir / rel.parent / rel.name.replace(".geojson.gz", ".gpkg"))
    for extra in ("CITATION.cff", "README.md"):
        if (source / extra).is_file():
            (target_dir / extra).write_text((source / extra).read_text())
    return target_dir


def _check_args(n_scenes: int, size_px: int) -> None:
    if not 1 <= n_scenes <= len(SITE_SCENES):
        raise DartsInputError(f"n_scenes must be in 1..{len(SITE_SCENES)}, got {n_scenes}")
    if not 32 <= size_px <= 4096:
        raise DartsInputError(f"size_px must be in 32..4096, got {size_px}")


def _prepare(root: Path, data_name: str, own_labels: bool) -> None:
    """Use an empty ``root``, or clear what an earlier generator run wrote there; refuse anything else."""
    marker = root / MARKER_FILE
    if root.exists() and any(root.iterdir()) and not marker.is_file():
        raise DartsInputError(
            f"out_dir {root} is not empty and was not written by the synthetic generator; "
            "choose an empty folder"
        )
    for name in [data_name, "arcticdem", "tcvis", "admin", *(["labels"] if own_labels else [])]:
        if (root / name).exists():
            shutil.rmtree(root / name)
    root.mkdir(parents=True, exist_ok=True)
    marker.write_text("written by darts_preprocess.synthetic; its folders are replaced on the next run\n")


def _generate(
    root: Path,
    labels_dir: Path | None,
    sensor: str,
    n_scenes: int,
    size_px: int,
    seed: int,
    test_region: str,
    dem_buffer_m: float,
) -> SyntheticCollection:
    _check_args(n_scenes, size_px)
    source = labels_dir if labels_dir is not None else embedded_labels_dir()
    labels, footprints = read_label_files(source)
    sites = find_sites(SITE_SCENES[:n_scenes], labels, footprints)
    data_dir = root / ("planet" if sensor == "planet" else "sentinel2")
    _prepare(root, data_dir.name, labels_dir is None)
    pixel_m = PIXEL_SIZE_M if sensor == "planet" else S2_PIXEL_SIZE_M
    out = SyntheticCollection(
        data_dir=data_dir,
        labels_dir=labels_dir if labels_dir is not None else root / "labels",
        arcticdem_dir=root / "arcticdem",
        tcvis_dir=root / "tcvis",
        admin_dir=root / "admin",
        test_region=test_region,
        scene_ids=(),
        image_ids=tuple(s.scene_id for s in sites),
    )
    scene_ids = []
    for i, site in enumerate(sites):
        rts = labels_of(site.scene_id, labels)
        grid = scene_grid(site, size_px, pixel_m, np.random.default_rng([seed, i, 0]))
        if sensor == "planet":
            scene_ids.append(write_planet_scene(data_dir, site, rts, grid, [seed, i, 1]))
        else:
            scene_ids.append(write_s2_sample(data_dir, site, rts, grid, [seed, i, 1], i))
        _write_dem(out, site, rts, grid, dem_buffer_m, [seed, i, 2])
        _write_tcvis(out, site, rts, grid, [seed, i, 3])
    _write_admin(out.admin_dir, test_region)
    if labels_dir is None:
        materialize_embedded_labels(out.labels_dir)
    logger.info("generated %d synthetic %s scenes under %s", len(sites), sensor, root)
    return replace(out, scene_ids=tuple(scene_ids))


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
    Rerunning into the same ``out_dir`` replaces what the previous run wrote.
    """
    root = Path(out_dir)
    out = _generate(root, _path(labels_dir), "planet", n_scenes, size_px, seed, test_region, dem_buffer_m)
    manifest = {"order": "synthetic", "seed": seed, "scenes": list(out.scene_ids)}
    write_text_atomically(out.data_dir / "manifest.json", json.dumps(manifest, indent=1) + "\n")
    return out


def generate_s2_collection(
    out_dir: Path | str,
    labels_dir: Path | str | None = None,
    n_scenes: int = 6,
    size_px: int = 64,
    seed: int = 42,
    test_region: str = TEST_REGION,
    dem_buffer_m: float = 300.0,
) -> SyntheticCollection:
    """Like :func:`generate_planet_collection`, but Sentinel-2 L2A samples in the reference layout.

    ``out_dir/sentinel2/<S2 product id>/`` holds ``<id>_SR.tif`` (10 m, uint16 blue, green, red,
    nir; +1000 DN for baseline 05.00 dates from 2022-01-25 on), ``<id>_SCL.tif`` (20 m) and
    ``<id>.gpkg`` (the sample's labels, label = 1, in the sample's UTM CRS). ``scene_ids`` are
    the sample ids; ``image_ids`` the real PlanetScope images whose sites they sit on.
    """
    root = Path(out_dir)
    return _generate(root, _path(labels_dir), "s2", n_scenes, size_px, seed, test_region, dem_buffer_m)


def _path(value: Path | str | None) -> Path | None:
    return Path(value) if value is not None else None
