"""Read and normalise the RTS label and footprint GeoPackages, and match them to scenes.

The real files (Nitze et al., doi:10.5281/zenodo.12706220; a subset in tests/data/rts-labels) are
messy; each quirk is handled explicitly and reported, never silently dropped:

- label value stored as int ``1``, float ``1.0`` or string ``"1"`` -> 1; an empty value in a
  TrainingLabel file (20 real polygons, which also lack an ``id``) is burned as RTS and counted;
  any other value is not burned and reported;
- a malformed ``image_date`` (``"202-00-722"``) is replaced by the date encoded in the image id;
- invalid geometries are made valid (polygonal parts kept), empty ones reported;
- label image ids truncated in the satellite-id part (iteration005) are matched to the one known
  scene / footprint id they prefix, with a warning;
- scenes without a footprint (iteration001) use the image extent (decided by the pipeline).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from darts_core.errors import DartsFileNotFoundError, DartsInputError

logger = logging.getLogger(__name__)

LABEL_GLOB = "TrainingLabel*.gpkg"
FOOTPRINT_GLOB = "ImageFootprints*.gpkg"
VECTOR_SUFFIXES: tuple[str, ...] = (".gpkg", ".geojson")
"""GeoPackage is the format of the real files; GeoJSON is accepted as well."""
WORK_CRS = "EPSG:4326"
_PSSCENE_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})_")
_ORTHOTILE_DATE = re.compile(r"^\d+_\d+_(\d{4})-(\d{2})-(\d{2})_")


@dataclass(frozen=True)
class LabelFile:
    """One input GeoPackage, recorded in the training set's config.toml."""

    path: Path
    kind: str
    """'labels' or 'footprints'."""
    sha256: str
    n_features: int


@dataclass
class LabelCollection:
    """Every label and footprint under a labels-dir, normalised."""

    labels: gpd.GeoDataFrame
    """Columns label_uid, image_id, region, label_id, label_file, repaired, geometry (EPSG:4326)."""
    footprints: gpd.GeoDataFrame
    """Columns image_id, image_date, footprint_file, geometry (EPSG:4326)."""
    files: list[LabelFile]
    notes: list[str] = field(default_factory=list)
    """Human-readable account of every repair and exclusion."""


@dataclass(frozen=True)
class SceneLabels:
    """Labels and footprint matched to one scene."""

    scene_id: str
    labels: gpd.GeoDataFrame
    footprint: BaseGeometry | None
    """Footprint in EPSG:4326, or None (use the image extent)."""
    prefix_matched_ids: tuple[str, ...] = ()
    """Truncated label image ids matched to this scene by prefix."""

    @property
    def region(self) -> str:
        """Most common label region of the scene ('' without labels)."""
        regions = self.labels["region"].dropna()
        return str(regions.mode().iloc[0]) if len(regions) else ""


@dataclass
class LabelMatching:
    """Result of matching a collection to the scenes found on disk."""

    scenes: dict[str, SceneLabels]
    unmatched_label_ids: list[str]
    """Label image ids that match no scene (their labels are not used)."""
    prefix_matches: dict[str, str]
    """Truncated label image id -> scene / footprint id it was matched to."""
    ambiguous_ids: dict[str, list[str]]


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def date_from_image_id(image_id: str) -> str | None:
    """ISO date encoded in a PSScene or PSOrthoTile id, or None."""
    for pattern in (_PSSCENE_DATE, _ORTHOTILE_DATE):
        m = pattern.match(image_id)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
            except ValueError:
                return None
    return None


def _parse_iso(value: object) -> str | None:
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        return None


def normalise_label_value(value: object) -> int | None:
    """1 for the RTS label however it is stored (1, 1.0, '1', '1.0'); None if empty; -1 otherwise."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return -1
    return 1 if number == 1.0 else -1


def _read_gpkg(path: Path, image_id: str | None = None) -> gpd.GeoDataFrame:
    try:
        frame = gpd.read_file(path)
    except Exception as err:  # pyogrio / GDAL errors of a truncated or foreign file
        reason = " ".join(str(err).split())[:300] or type(err).__name__
        raise DartsInputError(
            f"{path}: cannot read this label file ({reason}); is it truncated or not a GeoPackage?"
        ) from err
    if image_id is not None:
        frame["image_id"] = image_id
    if "image_id" not in frame.columns:
        raise DartsInputError(f"{path}: no 'image_id' column (columns: {list(frame.columns)})")
    if frame.crs is None:
        raise DartsInputError(f"{path}: the layer has no CRS; expected EPSG:4326 or another defined CRS")
    return frame.to_crs(WORK_CRS)


def _repair_geometries(frame: gpd.GeoDataFrame) -> tuple[gpd.GeoSeries, pd.Series]:
    """Make geometries valid, keep polygonal parts; return (geometries, repaired flags)."""
    geoms = frame.geometry
    invalid = ~geoms.is_valid & geoms.notna()
    fixed = geoms.copy()
    if invalid.any():
        made = shapely.make_valid(np.asarray(geoms[invalid]))
        fixed[invalid] = np.array([_polygonal(g) for g in made], dtype=object)
    return fixed, invalid


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.unary_union(parts) if parts else shapely.Polygon()


def read_label_file(path: Path, notes: list[str], image_id: str | None = None) -> gpd.GeoDataFrame:
    """One label file, normalised (see the module docstring); ``image_id`` overrides the column.

    Columns label_uid, image_id, region, label_id, label_file, repaired, geometry (EPSG:4326).
    Repairs and exclusions are appended to ``notes``.
    """
    frame = _read_gpkg(path, image_id)
    name = path.name
    values = (
        frame["label"].map(normalise_label_value) if "label" in frame else pd.Series(None, index=frame.index)
    )
    n_empty = int(values.isna().sum())
    if n_empty:
        notes.append(
            f"{name}: {n_empty} polygon(s) without a label value burned as RTS (the file holds RTS labels)"
        )
    unknown = values == -1
    if unknown.any():
        bad = sorted({str(v) for v in frame.loc[unknown, "label"]})
        notes.append(
            f"{name}: {int(unknown.sum())} polygon(s) with label value(s) {bad} not burned (expected 1)"
        )
    if "label" in frame and frame["label"].dtype.kind != "i":
        notes.append(f"{name}: label column stored as {frame['label'].dtype}; values normalised to 1")
    if "id" in frame and frame["id"].isna().any():
        n_no_id = int(frame["id"].isna().sum())
        notes.append(f"{name}: {n_no_id} polygon(s) without an id (labels are burned by geometry)")
    geoms, repaired = _repair_geometries(frame)
    empty = geoms.isna() | geoms.is_empty
    if repaired.any():
        notes.append(f"{name}: {int(repaired.sum())} invalid geometry(ies) made valid")
    if empty.any():
        notes.append(f"{name}: {int(empty.sum())} empty geometry(ies) not burned")
    keep = ~unknown & ~empty
    out = gpd.GeoDataFrame(
        {
            "label_uid": [f"{path.stem}:{i}" for i in frame.index],
            "image_id": frame["image_id"].astype(str).str.strip(),
            "region": frame["region"].astype(object) if "region" in frame else None,
            "label_id": frame["id"].astype(object) if "id" in frame else None,
            "label_file": name,
            "repaired": repaired.to_numpy(),
        },
        geometry=geoms.values,
        crs=WORK_CRS,
    )
    return out[keep.to_numpy()]


def _read_footprint_file(path: Path, notes: list[str]) -> gpd.GeoDataFrame:
    frame = _read_gpkg(path)
    ids = frame["image_id"].astype(str).str.strip()
    raw_dates = frame["image_date"] if "image_date" in frame else pd.Series(None, index=frame.index)
    dates, bad = [], []
    for image_id, raw in zip(ids, raw_dates, strict=True):
        parsed = _parse_iso(raw)
        if parsed is None:
            parsed = date_from_image_id(image_id)
            bad.append(f"{raw!s}->{parsed}")
        dates.append(parsed)
    if bad:
        notes.append(
            f"{path.name}: {len(bad)} malformed image_date(s) replaced by the id's date: {sorted(set(bad))}"
        )
    geoms, repaired = _repair_geometries(frame)
    if repaired.any():
        notes.append(f"{path.name}: {int(repaired.sum())} invalid footprint(s) made valid")
    return gpd.GeoDataFrame(
        {"image_id": ids.to_numpy(), "image_date": dates, "footprint_file": path.name},
        geometry=geoms.values,
        crs=WORK_CRS,
    )


def load_label_collection(labels_dir: Path) -> LabelCollection:
    """Read every TrainingLabel*.gpkg and ImageFootprints*.gpkg under ``labels_dir`` (recursively)."""
    labels_dir = Path(labels_dir)
    if not labels_dir.is_dir():
        raise DartsFileNotFoundError(f"labels-dir {labels_dir} does not exist or is not a folder")
    label_paths = _find(labels_dir, LABEL_GLOB)
    footprint_paths = _find(labels_dir, FOOTPRINT_GLOB)
    if not label_paths and not footprint_paths:
        raise DartsFileNotFoundError(f"no {LABEL_GLOB} or {FOOTPRINT_GLOB} under labels-dir {labels_dir}")
    notes: list[str] = []
    labels = [read_label_file(p, notes) for p in label_paths]
    footprints = [_read_footprint_file(p, notes) for p in footprint_paths]
    files = [LabelFile(p, "labels", sha256_file(p), len(f)) for p, f in zip(label_paths, labels, strict=True)]
    files += [
        LabelFile(p, "footprints", sha256_file(p), len(f))
        for p, f in zip(footprint_paths, footprints, strict=True)
    ]
    label_frame = _concat(labels, ["label_uid", "image_id", "region", "label_id", "label_file", "repaired"])
    footprint_frame = _concat(footprints, ["image_id", "image_date", "footprint_file"])
    dup = footprint_frame["image_id"].duplicated(keep="first")
    if dup.any():
        dup_ids = sorted(footprint_frame.loc[dup, "image_id"])
        notes.append(f"{len(dup_ids)} duplicate footprint(s) ignored (first kept): {dup_ids}")
        footprint_frame = footprint_frame[~dup]
    for note in notes:
        logger.info("labels: %s", note)
    return LabelCollection(label_frame, footprint_frame.reset_index(drop=True), files, notes)


def _find(folder: Path, pattern: str) -> list[Path]:
    stem = pattern.removesuffix(".gpkg")
    return sorted(p for suffix in VECTOR_SUFFIXES for p in folder.rglob(stem + suffix) if p.is_file())


def _concat(frames: list[gpd.GeoDataFrame], columns: list[str]) -> gpd.GeoDataFrame:
    if not frames:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=WORK_CRS)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=WORK_CRS)


def _prefix_candidates(label_id: str, known_ids: Iterable[str]) -> list[str]:
    """Known ids that ``label_id`` is a truncation of (truncated only after the last underscore)."""
    cut = label_id.rfind("_")
    if cut < 0:
        return []
    return [k for k in known_ids if k != label_id and k.startswith(label_id) and k.rfind("_") == cut]


def match_scenes(collection: LabelCollection, scene_ids: Iterable[str]) -> LabelMatching:
    """Match labels and footprints to the given scene ids (exact, then by truncated prefix)."""
    scene_ids = sorted(set(scene_ids))
    known = set(scene_ids) | set(collection.footprints["image_id"])
    prefix: dict[str, str] = {}
    ambiguous: dict[str, list[str]] = {}
    for label_id in sorted(set(collection.labels["image_id"]) - known):
        candidates = _prefix_candidates(label_id, known)
        if len(candidates) == 1:
            prefix[label_id] = candidates[0]
            logger.warning("label image id %r is truncated; matched by prefix to %r", label_id, candidates[0])
        elif candidates:
            ambiguous[label_id] = sorted(candidates)
            logger.warning(
                "label image id %r is a prefix of several ids %s; not matched", label_id, candidates
            )
    resolved = collection.labels["image_id"].map(lambda i: prefix.get(i, i))
    footprints = dict(zip(collection.footprints["image_id"], collection.footprints.geometry, strict=True))
    # pandas-stubs type an ndarray grouper's keys as tuples and a GeoDataFrame's groups as DataFrames
    grouped = collection.labels.groupby(resolved.to_numpy(), sort=False)
    groups = cast(dict[str, gpd.GeoDataFrame], {k: v for k, v in grouped})
    scenes: dict[str, SceneLabels] = {}
    for scene_id in scene_ids:
        frame = groups.get(scene_id, collection.labels.iloc[0:0])
        truncated = tuple(sorted(k for k, v in prefix.items() if v == scene_id))
        scenes[scene_id] = SceneLabels(scene_id, frame, footprints.get(scene_id), truncated)
    unmatched = sorted(set(resolved) - set(scene_ids))
    return LabelMatching(scenes, unmatched, prefix, ambiguous)
