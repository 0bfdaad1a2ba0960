"""Admin regions (for ``test-regions``): a local folder of boundary files, plus the geoBoundaries download.

Layout (``admin-dir``): any number of GeoPackage / shapefile / GeoJSON files (any depth), each with
a ``shapeName`` column (the geoBoundaries naming). The admin level is taken from a ``shapeType``
column (``ADM1``, ``ADM2``) when present, else from the file name (``...ADM2...``), else left empty.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd

from darts_core.atomic import write_bytes_atomically
from darts_preprocess.sources.errors import AdminRegionsError, RemoteSourceError

logger = logging.getLogger(__name__)

ADMIN_SUFFIXES: tuple[str, ...] = (".gpkg", ".shp", ".geojson", ".json")
NAME_COLUMN = "shapeName"
GEOBOUNDARIES_API = "https://www.geoboundaries.org/api/current/gbOpen/{iso3}/ADM{level}/"
_LEVEL_RE = re.compile(r"ADM(\d)", re.IGNORECASE)


def _level(frame: gpd.GeoDataFrame, path: Path) -> pd.Series:
    if "shapeType" in frame.columns:
        return frame["shapeType"].astype(str).str.upper()
    match = _LEVEL_RE.search(path.name)
    return pd.Series([f"ADM{match[1]}" if match else None] * len(frame), index=frame.index, dtype=object)


def load_admin_regions(admin_dir: Path | str) -> gpd.GeoDataFrame:
    """Every admin polygon under ``admin_dir``: columns shapeName, level, source, geometry (EPSG:4326)."""
    root = Path(admin_dir)
    if not root.is_dir():
        raise AdminRegionsError(f"admin-dir {root} does not exist; it must hold admin boundary files")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in ADMIN_SUFFIXES and p.is_file())
    if not files:
        raise AdminRegionsError(
            f"admin-dir {root} holds no boundary file ({', '.join(ADMIN_SUFFIXES)}); "
            "download one with darts_preprocess.download_admin_regions or copy a geoBoundaries file there"
        )
    frames = []
    for path in files:
        frame = gpd.read_file(path)
        if NAME_COLUMN not in frame.columns:
            raise AdminRegionsError(
                f"admin file {path} has no {NAME_COLUMN!r} column (columns: {list(frame.columns)})"
            )
        if frame.crs is None:
            raise AdminRegionsError(f"admin file {path} has no CRS")
        frame = frame.to_crs("EPSG:4326")
        frames.append(
            gpd.GeoDataFrame(
                {
                    "shapeName": frame[NAME_COLUMN].astype(str),
                    "level": _level(frame, path),
                    "source": path.name,
                },
                geometry=frame.geometry.make_valid(),
                crs="EPSG:4326",
            )
        )
    regions = pd.concat(frames, ignore_index=True)
    logger.info("read %d admin regions from %d file(s) in %s", len(regions), len(files), root)
    return gpd.GeoDataFrame(regions, geometry="geometry", crs="EPSG:4326")


def download_admin_regions(
    admin_dir: Path | str, iso3: str, level: int, timeout_s: float = 60.0, api: str = GEOBOUNDARIES_API
) -> Path:
    """Download a geoBoundaries (gbOpen) ADM``level`` file of country ``iso3`` into ``admin_dir``.

    Written as ``geoBoundaries-{ISO3}-ADM{level}.geojson`` (temp name, then rename); an existing file is
    kept. ``api`` is the geoBoundaries API URL template. Raises :class:`RemoteSourceError` when the
    service is unreachable or answers in an unknown format.
    """
    root = Path(admin_dir)
    target = root / f"geoBoundaries-{iso3.upper()}-ADM{int(level)}.geojson"
    if target.is_file():
        return target
    try:
        import requests
    except ImportError as err:  # pragma: no cover - installed in the workspace
        raise RemoteSourceError("requests is missing; `pip install 'darts-preprocess[remote]'`") from err
    api = api.format(iso3=iso3.upper(), level=int(level))
    try:
        meta = requests.get(api, timeout=timeout_s)
        meta.raise_for_status()
        url = meta.json()["gjDownloadURL"]
        response = requests.get(url, timeout=timeout_s)
        response.raise_for_status()
    except (requests.RequestException, KeyError, ValueError) as err:
        raise RemoteSourceError(f"geoBoundaries download {iso3} ADM{level} from {api} failed: {err}") from err
    write_bytes_atomically(target, response.content)
    logger.info("downloaded %s", target)
    return target
