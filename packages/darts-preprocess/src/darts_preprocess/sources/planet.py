"""PlanetScope scenes on disk: discovery of PSScene / PSOrthoTile folders and reading one scene.

A scene is a folder, at any depth under ``data_dir``, whose name parses as a PSScene id
(``YYYYMMDD_HHMMSS_XXXX`` or ``YYYYMMDD_HHMMSS_NN_XXXX``) or a PSOrthoTile id
(``NNNNNNN_NNNNNNN_YYYY-MM-DD_XXXX``) and that holds a 4-band surface-reflectance GeoTIFF
(``*_SR.tif`` or ``*_SR_clip.tif``, also ``*_SR_harmonized[_clip].tif``: blue, green, red, nir,
uint16, 0 = no data) and its
``*_udm2.tif`` / ``*_udm2_clip.tif`` (8 bands: clear, snow, shadow, light haze, heavy haze,
cloud, confidence, unusable). The scene id is the folder name.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr
from odc.geo.geobox import GeoBox

from darts_preprocess.sources._scene import (
    QUALITY_HIGH,
    QUALITY_INVALID,
    QUALITY_LOW,
    build_scene_dataset,
    open_scene_raster,
)
from darts_preprocess.sources.errors import SceneFileNotFoundError, SceneFormatError

logger = logging.getLogger(__name__)

PSSCENE_RE = re.compile(r"^(?P<date>\d{8})_(?P<time>\d{6})(?:_\d{2})?_[0-9a-z]{4}$")
PSORTHOTILE_RE = re.compile(r"^\d{7}_\d{7}_(?P<date>\d{4}-\d{2}-\d{2})_[0-9a-z]{4}$")
SR_PATTERNS: tuple[str, ...] = (
    "*_SR_clip.tif",
    "*_SR.tif",
    "*_SR_harmonized_clip.tif",
    "*_SR_harmonized.tif",
)
UDM2_PATTERNS: tuple[str, ...] = ("*_udm2_clip.tif", "*_udm2.tif")
SR_BANDS: tuple[str, ...] = ("blue", "green", "red", "nir")


@dataclass(frozen=True)
class PlanetSceneRef:
    """A discovered PlanetScope scene folder."""

    scene_id: str
    product: str
    """``PSScene`` or ``PSOrthoTile``."""
    date: str
    """Acquisition date, ISO ``YYYY-MM-DD``."""
    folder: Path
    sr_path: Path
    udm2_path: Path


@dataclass
class PlanetDiscovery:
    """Result of :func:`discover_planet_scenes`: scenes found and everything skipped, with a reason."""

    scenes: list[PlanetSceneRef] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def parse_planet_id(name: str) -> tuple[str, str] | None:
    """``(product, iso_date)`` if ``name`` is a PSScene or PSOrthoTile id, else None."""
    if match := PSSCENE_RE.match(name):
        d = match["date"]
        return "PSScene", f"{d[:4]}-{d[4:6]}-{d[6:]}"
    if match := PSORTHOTILE_RE.match(name):
        return "PSOrthoTile", match["date"]
    return None


def _find_one(folder: Path, patterns: tuple[str, ...]) -> list[Path]:
    for pattern in patterns:
        found = sorted(folder.glob(pattern))
        if found:
            return found
    return []


def _scene_ref(folder: Path, product: str, date: str) -> PlanetSceneRef | str:
    """A scene reference, or the reason the folder is not usable."""
    srs = _find_one(folder, SR_PATTERNS)
    if not srs:
        return "scene folder without a surface-reflectance file (*_SR.tif or *_SR_clip.tif)"
    if len(srs) > 1:
        return f"scene folder with several surface-reflectance files: {[p.name for p in srs]}"
    udms = _find_one(folder, UDM2_PATTERNS)
    if not udms:
        return f"scene folder without a *_udm2.tif quality mask next to {srs[0].name}"
    if len(udms) > 1:
        return f"scene folder with several udm2 files: {[p.name for p in udms]}"
    return PlanetSceneRef(folder.name, product, date, folder, srs[0], udms[0])


def discover_planet_scenes(data_dir: Path | str) -> PlanetDiscovery:
    """Find every PlanetScope scene folder under ``data_dir`` (any depth), sorted by scene id.

    Folders that are not scenes (and do not contain scenes) and stray files are listed in
    ``skipped`` with a reason; a scene-named folder lacking its SR or udm2 file is skipped with a
    reason naming what is missing. Never raises for content, only for a missing ``data_dir``.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise SceneFileNotFoundError(f"PlanetScope data-dir {root} does not exist or is not a folder")
    result = PlanetDiscovery()
    _walk(root, result, is_root=True)
    result.scenes.sort(key=lambda r: r.scene_id)
    seen: dict[str, Path] = {}
    unique = []
    for ref in result.scenes:
        if ref.scene_id in seen:
            result.skipped.append((ref.folder, f"duplicate scene id, already found in {seen[ref.scene_id]}"))
            continue
        seen[ref.scene_id] = ref.folder
        unique.append(ref)
    result.scenes = unique
    for path, reason in result.skipped:
        logger.info("skipped %s: %s", path, reason)
    logger.info("found %d PlanetScope scenes under %s (%d skipped)", len(unique), root, len(result.skipped))
    return result


def _walk(folder: Path, result: PlanetDiscovery, is_root: bool = False) -> bool:
    """Recurse; return True if ``folder`` is or contains a scene-named folder."""
    parsed = parse_planet_id(folder.name)
    if parsed is not None and not is_root:
        ref = _scene_ref(folder, *parsed)
        if isinstance(ref, PlanetSceneRef):
            result.scenes.append(ref)
        else:
            result.skipped.append((folder, ref))
        return True
    mark = len(result.skipped)
    found = False
    stray: list[Path] = []
    try:
        children = sorted(folder.iterdir())
    except OSError as err:
        result.skipped.append((folder, f"cannot be listed: {err}"))
        return False
    for child in children:
        if child.name.startswith("."):
            continue
        if child.is_dir():
            found = _walk(child, result) or found
        else:
            stray.append(child)
    if not found and not is_root:
        del result.skipped[mark:]
        result.skipped.append((folder, "not a PSScene / PSOrthoTile id and holds no scene folder"))
        return False
    result.skipped.extend((path, "file outside a scene folder") for path in stray)
    return found


def read_udm2_quality(udm2: np.ndarray) -> np.ndarray:
    """Quality codes from an 8-band udm2 stack ``[8, h, w]``: 0 invalid, 1 low, 2 high.

    invalid = band 8 (unusable) != 0; low = any of bands 2-6 (snow, shadow, light haze, heavy haze,
    cloud) != 0; else high.
    """
    quality = np.full(udm2.shape[1:], QUALITY_HIGH, dtype=np.uint8)
    quality[np.any(udm2[1:6] != 0, axis=0)] = QUALITY_LOW
    quality[udm2[7] != 0] = QUALITY_INVALID
    return quality


def load_planet_scene(ref: PlanetSceneRef) -> xr.Dataset:
    """Read one scene: blue, green, red, nir float32 DN (NaN where 0) and ``quality`` from udm2."""
    for path in (ref.sr_path, ref.udm2_path):
        if not path.is_file():
            raise SceneFileNotFoundError(f"scene {ref.scene_id}: file {path} does not exist")
    with open_scene_raster(ref.sr_path) as src:
        if src.count != 4:
            raise SceneFormatError(f"{ref.sr_path} has {src.count} bands; expected 4 (blue, green, red, nir)")
        if src.crs is None:
            raise SceneFormatError(f"{ref.sr_path} has no CRS")
        sr = src.read()
        geobox = GeoBox((src.height, src.width), src.transform, src.crs)
    with open_scene_raster(ref.udm2_path) as src:
        if src.count != 8:
            raise SceneFormatError(f"{ref.udm2_path} has {src.count} bands; expected the 8 udm2 bands")
        if (src.height, src.width) != geobox.shape.yx or not src.transform.almost_equals(geobox.affine):
            raise SceneFormatError(
                f"{ref.udm2_path} is {src.height}x{src.width} px with transform {tuple(src.transform)[:6]}; "
                f"expected the grid of {ref.sr_path.name}: {geobox.shape.y}x{geobox.shape.x} px, "
                f"transform {tuple(geobox.affine)[:6]}"
            )
        quality = read_udm2_quality(src.read())
    bands = {}
    for i, name in enumerate(SR_BANDS):
        band = sr[i].astype(np.float32)
        np.copyto(band, np.float32(np.nan), where=sr[i] == 0)
        bands[name] = band
    attrs = {"scene_id": ref.scene_id, "date": ref.date, "sensor": "planetscope", "product": ref.product}
    return build_scene_dataset(bands, quality, geobox, attrs)
