"""Sentinel-2 L2A scenes on disk: reference-style GeoTIFF folders and one netCDF file per scene.

Layouts under ``sentinel2-dir`` (any depth):

- a folder per sample (the reference tool's layout): ``*_SR*.tif`` (4 bands blue, green, red, nir,
  DN), ``*_SCL*.tif`` (scene classification; resampled nearest onto the SR grid when its grid
  differs) and optionally ``<scene id>.gpkg`` / ``.shp`` with that sample's labels. Scene id =
  folder name.
- ``<scene id>.nc``: variables blue, green, red, nir (or B2, B3, B4, B8) with a CRS readable by
  rioxarray, and optionally ``scl`` / ``SCL`` (scene classification) or ``quality`` (0/1/2).

Reflectance: processing baselines before 04.00 store DN; from 04.00 (2022-01-25 on) L2A adds a
1000 DN offset, which is subtracted here so both eras mean the same. The baseline is read from
the name (``_N0400_``), else the GeoTIFF tag / netCDF attribute ``BOA_ADD_OFFSET`` decides, else
the acquisition date. Quality from SCL: {0, 1} invalid; {3, 8, 9, 11} low; else high.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
import xarray as xr
from odc.geo.geobox import GeoBox
from rasterio.warp import Resampling, reproject

from darts_preprocess.sources._scene import (
    OPTICAL_VARS,
    QUALITY_HIGH,
    QUALITY_INVALID,
    QUALITY_LOW,
    build_scene_dataset,
    date_from_name,
    open_scene_raster,
)
from darts_preprocess.sources._tiles import grid_crs
from darts_preprocess.sources.errors import SceneFileNotFoundError, SceneFormatError

logger = logging.getLogger(__name__)

BASELINE_04_DATE = "2022-01-25"
BOA_OFFSET_DN = -1000.0
SCL_INVALID: frozenset[int] = frozenset({0, 1})
SCL_LOW: frozenset[int] = frozenset({3, 8, 9, 11})
_BASELINE_RE = re.compile(r"_N(\d{2})(\d{2})(?:_|$)")
_NC_ALIASES: dict[str, tuple[str, ...]] = {
    "blue": ("blue", "B2", "B02"),
    "green": ("green", "B3", "B03"),
    "red": ("red", "B4", "B04"),
    "nir": ("nir", "B8", "B08"),
}


@dataclass(frozen=True)
class S2SceneRef:
    """A discovered Sentinel-2 scene (GeoTIFF folder or netCDF file)."""

    scene_id: str
    date: str | None
    """Acquisition date ``YYYY-MM-DD`` parsed from the name (None when the name carries none)."""
    kind: str
    """``geotiff`` or ``netcdf``."""
    sr_path: Path
    scl_path: Path | None = None
    labels_path: Path | None = None
    """Per-sample labels (``<scene id>.gpkg`` / ``.shp``) in the scene folder, if any."""


@dataclass
class S2Discovery:
    """Result of :func:`discover_s2_scenes`."""

    scenes: list[S2SceneRef] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def scl_quality(scl: np.ndarray) -> np.ndarray:
    """Quality codes from SCL classes: {0, 1} invalid, {3, 8, 9, 11} low, else high."""
    scl = np.asarray(scl)
    quality = np.full(scl.shape, QUALITY_HIGH, dtype=np.uint8)
    quality[np.isin(scl, list(SCL_LOW))] = QUALITY_LOW
    quality[np.isin(scl, list(SCL_INVALID))] = QUALITY_INVALID
    return quality


def reflectance_offset_dn(scene_id: str, date: str | None, boa_add_offset: float | None = None) -> float:
    """DN to add so that values mean reflectance x 10000 in every processing baseline."""
    if match := _BASELINE_RE.search(scene_id):
        return BOA_OFFSET_DN if int(match[1]) >= 4 else 0.0
    if boa_add_offset is not None:
        return float(boa_add_offset)
    if date is not None and date >= BASELINE_04_DATE:
        return BOA_OFFSET_DN
    return 0.0


def _folder_ref(folder: Path) -> S2SceneRef | str | None:
    srs = sorted(folder.glob("*_SR*.tif"))
    if not srs:
        return None
    if len(srs) > 1:
        return f"several *_SR*.tif files: {[p.name for p in srs]}"
    scls = sorted(folder.glob("*_SCL*.tif"))
    if len(scls) > 1:
        return f"several *_SCL*.tif files: {[p.name for p in scls]}"
    labels = [p for ext in (".gpkg", ".shp") for p in sorted(folder.glob(f"*{ext}"))]
    own = [p for p in labels if p.stem == folder.name] or labels
    return S2SceneRef(
        scene_id=folder.name,
        date=date_from_name(folder.name) or date_from_name(srs[0].name),
        kind="geotiff",
        sr_path=srs[0],
        scl_path=scls[0] if scls else None,
        labels_path=own[0] if own else None,
    )


def discover_s2_scenes(sentinel2_dir: Path | str) -> S2Discovery:
    """Find every Sentinel-2 scene (GeoTIFF folder or ``.nc`` file) under ``sentinel2_dir``."""
    root = Path(sentinel2_dir)
    if not root.is_dir():
        raise SceneFileNotFoundError(f"sentinel2-dir {root} does not exist or is not a folder")
    result = S2Discovery()
    for path in sorted([root, *root.rglob("*")]):
        if path.is_dir():
            ref = _folder_ref(path)
            if isinstance(ref, str):
                result.skipped.append((path, ref))
            elif ref is not None:
                if ref.scl_path is None:
                    logger.warning(
                        "scene %s has no *_SCL*.tif: every valid pixel counts as high quality", path
                    )
                result.scenes.append(ref)
        elif path.suffix.lower() == ".nc":
            result.scenes.append(S2SceneRef(path.stem, date_from_name(path.stem), "netcdf", path))
    result.scenes.sort(key=lambda r: r.scene_id)
    logger.info(
        "found %d Sentinel-2 scenes under %s (%d skipped)", len(result.scenes), root, len(result.skipped)
    )
    return result


def _read_scl(path: Path, geobox: GeoBox) -> np.ndarray:
    with open_scene_raster(path) as src:
        if (src.height, src.width) == geobox.shape.yx and src.transform.almost_equals(geobox.affine):
            return src.read(1)
        scl = np.zeros(geobox.shape.yx, dtype=np.uint8)
        reproject(
            rasterio.band(src, 1),
            scl,
            dst_transform=geobox.affine,
            dst_crs=grid_crs(geobox).to_wkt(),
            dst_nodata=0,
            resampling=Resampling.nearest,
        )
        return scl


def _load_geotiff(ref: S2SceneRef) -> tuple[dict[str, np.ndarray], np.ndarray, GeoBox, float | None]:
    with open_scene_raster(ref.sr_path) as src:
        if src.count < 4:
            raise SceneFormatError(f"{ref.sr_path} has {src.count} bands; expected 4 (blue, green, red, nir)")
        if src.crs is None:
            raise SceneFormatError(f"{ref.sr_path} has no CRS")
        raw = src.read(list(range(1, 5))).astype(np.float32)
        nodata = src.nodata if src.nodata is not None else 0.0
        geobox = GeoBox((src.height, src.width), src.transform, src.crs)
        tag = src.tags().get("BOA_ADD_OFFSET")
    raw[raw == nodata] = np.nan
    bands = dict(zip(OPTICAL_VARS, raw, strict=True))
    if ref.scl_path is not None:
        quality = scl_quality(_read_scl(ref.scl_path, geobox))
    else:
        quality = np.full(geobox.shape.yx, QUALITY_HIGH, dtype=np.uint8)
    return bands, quality, geobox, float(tag) if tag is not None else None


def _nc_var(ds: xr.Dataset, band: str, path: Path) -> np.ndarray:
    for name in _NC_ALIASES[band]:
        if name in ds.data_vars:
            return np.asarray(ds[name].values, dtype=np.float32)
    raise SceneFormatError(
        f"{path} has no {band} variable (tried {_NC_ALIASES[band]}); has {list(ds.data_vars)}"
    )


def _load_netcdf(ref: S2SceneRef) -> tuple[dict[str, np.ndarray], np.ndarray, GeoBox, float | None]:
    with xr.open_dataset(ref.sr_path, mask_and_scale=True) as ds:
        crs = ds.rio.crs
        if crs is None:
            raise SceneFormatError(f"{ref.sr_path} has no CRS readable by rioxarray")
        bands = {band: _nc_var(ds, band, ref.sr_path) for band in OPTICAL_VARS}
        geobox = GeoBox(bands["blue"].shape, ds.rio.transform(), crs)
        if "scl" in ds.data_vars or "SCL" in ds.data_vars:
            scl = ds["scl" if "scl" in ds.data_vars else "SCL"].fillna(0).values
            quality = scl_quality(scl.astype(np.int64))
        elif "quality" in ds.data_vars:
            quality = ds["quality"].fillna(QUALITY_INVALID).values.astype(np.uint8)
        else:
            quality = np.full(geobox.shape.yx, QUALITY_HIGH, dtype=np.uint8)
        offset = ds.attrs.get("BOA_ADD_OFFSET")
    return bands, quality, geobox, float(offset) if offset is not None else None


def load_s2_scene(ref: S2SceneRef) -> xr.Dataset:
    """Read one scene into the common scene Dataset (blue, green, red, nir DN + quality)."""
    if not ref.sr_path.is_file():
        raise SceneFileNotFoundError(f"scene {ref.scene_id}: file {ref.sr_path} does not exist")
    loader = _load_netcdf if ref.kind == "netcdf" else _load_geotiff
    bands, quality, geobox, boa_offset = loader(ref)
    offset = reflectance_offset_dn(ref.scene_id, ref.date, boa_offset)
    if offset:
        bands = {name: arr + np.float32(offset) for name, arr in bands.items()}
    attrs = {
        "scene_id": ref.scene_id,
        "date": ref.date or "",
        "sensor": "sentinel2",
        "reflectance_offset_dn": offset,
    }
    return build_scene_dataset(bands, quality, geobox, attrs)
