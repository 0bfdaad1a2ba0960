"""Where the synthetic scenes go: real RTS label sites, and the embedded subset of the real labels.

The real labels (Nitze et al., doi:10.5281/zenodo.12706220, CC-BY 4.0) live in a labels folder of
``TrainingLabel*.gpkg`` / ``ImageFootprints*.gpkg``. Each synthetic scene is a small window around
one *anchor* label of a real image: the label with the most neighbours within
:data:`ANCHOR_NEIGHBOUR_M` (ties broken by position), or the footprint's representative point for
an image without labels. ``data/rts_labels/`` ships a small subset (every label within
:data:`EMBED_HALF_SIDE_M` (square) of the anchor of each scene in :data:`SITE_SCENES`) made by
``scripts/make_embedded_labels.py``, so quickstart works without the full data set.
"""

from __future__ import annotations

import gzip
import io
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from darts_core.errors import DartsFileNotFoundError, DartsInputError

SITE_SCENES: tuple[str, ...] = (
    "3649691_4572917_2020-08-14_1039",  # Taimyr (test region), PSOrthoTile, iteration003
    "20200722_081437_1032",  # Novaya Zemlya, PSScene; footprint file with a malformed date
    "4713120_5272315_2021-07-21_2463",  # Lena Delta, iteration004
    "5761052_1070519_2022-07-04_241f",  # negative scene (no RTS), iteration006
    "4688749_0470419_2021-07-12_105c",  # Brooks Range; labels carry a truncated image id (iteration005)
    "4770635_4572716_2021-08-06_2416",  # Taimyr (test region), iteration004
    "20180703_192559_1006",  # Banks Island, iteration001 (no footprint file)
    "4694518_0870514_2021-07-15_1064",  # Peel Plateau, iteration002
    "4706735_4472312_2021-07-19_1034",  # Gydan, iteration003
    "5828620_4271614_2022-08-02_2495",  # Yamal, iteration006
    "20200814_044132_1026",  # Chukotka, iteration002
    "5773266_0971513_2022-07-08_2439",  # negative scene, iteration006
)
ANCHOR_NEIGHBOUR_M = 300.0
EMBED_HALF_SIDE_M = 470.0
"""Half side of the square kept around each anchor: a 256 px window at 3 m plus its largest jitter."""
EMBEDDED_PACKAGE = "darts_preprocess.data"
EMBEDDED_FOLDER = "rts_labels"
LABEL_SUFFIXES: tuple[str, ...] = (".gpkg", ".geojson", ".geojson.gz")
_ITERATION_RE = re.compile(r"iteration(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Site:
    """One synthetic scene's real location."""

    scene_id: str
    iteration: str
    anchor_lon: float
    anchor_lat: float
    n_labels: int
    """Labels of this image (exact or truncated-prefix id match)."""


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS 84 UTM zone containing a point."""
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


def _iteration(path: Path) -> str:
    match = _ITERATION_RE.search(path.name)
    return f"iteration{match[1]}" if match else "unknown"


def read_label_files(labels_dir: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """All labels and footprints under ``labels_dir`` (EPSG:4326) with ``_file`` and ``_iteration``."""
    if not labels_dir.is_dir():
        raise DartsFileNotFoundError(f"labels-dir {labels_dir} does not exist")
    out = []
    for stem in ("TrainingLabel", "ImageFootprints"):
        frames = []
        for path in sorted(labels_dir.rglob(f"{stem}*")):
            if not path.name.lower().endswith(LABEL_SUFFIXES):
                continue
            frame = read_vector(path).to_crs("EPSG:4326")
            frame["_file"] = str(path.relative_to(labels_dir))
            frame["_iteration"] = _iteration(path)
            frames.append(frame)
        if not frames:
            if stem == "TrainingLabel":
                raise DartsFileNotFoundError(f"labels-dir {labels_dir} holds no TrainingLabel*.gpkg file")
            out.append(gpd.GeoDataFrame({"image_id": []}, geometry=[], crs="EPSG:4326"))
            continue
        merged = pd.concat(frames, ignore_index=True)
        merged["image_id"] = merged["image_id"].astype(str)
        out.append(gpd.GeoDataFrame(merged, geometry="geometry", crs="EPSG:4326"))
    return out[0], out[1]


def read_vector(path: Path) -> gpd.GeoDataFrame:
    """Read a vector file; ``.gz`` files (the embedded subset) are decompressed in memory."""
    if path.suffix.lower() == ".gz":
        return gpd.read_file(io.BytesIO(gzip.decompress(path.read_bytes())))
    return gpd.read_file(path)


def labels_of(scene_id: str, labels: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Labels of one image: exact id match, else ids that are a truncated prefix of ``scene_id``."""
    exact = labels[labels["image_id"] == scene_id]
    if len(exact):
        return exact
    ids = labels["image_id"]
    prefix = ids.map(
        lambda i: len(i) >= len(scene_id) - 2 and len(i) < len(scene_id) and scene_id.startswith(i)
    )
    return labels[prefix]


def _anchor(lab: gpd.GeoDataFrame) -> tuple[float, float]:
    c = gpd.GeoSeries(shapely.centroid(shapely.make_valid(lab.geometry.values)), crs="EPSG:4326")
    lon0, lat0 = float(c.x.iloc[0]), float(c.y.iloc[0])
    pts = c.to_crs(utm_epsg(lon0, lat0))
    xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    dist = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    counts = (dist <= ANCHOR_NEIGHBOUR_M).sum(axis=1)
    keys = sorted(range(len(xy)), key=lambda k: (-counts[k], round(xy[k, 0], 1), round(xy[k, 1], 1)))
    best = keys[0]
    return float(c.x.iloc[best]), float(c.y.iloc[best])


def find_sites(
    scene_ids: tuple[str, ...], labels: gpd.GeoDataFrame, footprints: gpd.GeoDataFrame
) -> list[Site]:
    """The site of each scene id (labels or footprint needed; others raise)."""
    sites = []
    for scene_id in scene_ids:
        lab = labels_of(scene_id, labels)
        fp = footprints[footprints["image_id"] == scene_id]
        if len(lab):
            lon, lat = _anchor(lab)
            iteration = str(fp["_iteration"].iloc[0]) if len(fp) else str(lab["_iteration"].iloc[0])
        elif len(fp):
            point = shapely.make_valid(fp.geometry.iloc[0]).representative_point()
            lon, lat, iteration = point.x, point.y, str(fp["_iteration"].iloc[0])
        else:
            raise DartsInputError(f"image {scene_id} has neither labels nor a footprint in the labels folder")
        sites.append(Site(scene_id, iteration, lon, lat, len(lab)))
    return sites


def embedded_labels_dir() -> Path:
    """Folder of the embedded label subset shipped with the package (gzipped GeoJSON files)."""
    path = Path(str(resources.files(EMBEDDED_PACKAGE) / EMBEDDED_FOLDER))
    if not path.is_dir():
        raise DartsFileNotFoundError(
            f"embedded labels {path} are missing; "
            "run packages/darts-preprocess/scripts/make_embedded_labels.py"
        )
    return path
