"""Labels for Sentinel-2 scenes: per-sample label files, or PlanetScope footprints by date and overlap.

Two sources, per scene:

1. the sample folder holds ``<scene id>.gpkg`` / ``.shp`` (the reference layout): those polygons are
   the scene's labels, the image extent is its footprint;
2. otherwise, with labels-dir: every footprint (ImageFootprints*.gpkg) that overlaps the scene
   extent and was acquired within :data:`MATCH_WINDOW_DAYS` days (or ``s2-date-window-days``) of
   the scene is matched; the scene's labels are those of the matched images and its footprint is
   their union.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from darts_preprocess.labels.collection import (
    WORK_CRS,
    LabelCollection,
    LabelFile,
    LabelMatching,
    SceneLabels,
    match_scenes,
    read_label_file,
    sha256_file,
)

logger = logging.getLogger(__name__)

MATCH_WINDOW_DAYS = 30
"""Largest date difference between a Sentinel-2 scene and a labelled PlanetScope image."""


def _days_apart(a: str | None, b: str | None) -> float:
    if not a or not b:
        return float("inf")
    return abs((date.fromisoformat(a) - date.fromisoformat(b)).days)


def _empty_labels(collection: LabelCollection | None) -> gpd.GeoDataFrame:
    if collection is not None:
        return collection.labels.iloc[0:0]
    columns = ["label_uid", "image_id", "region", "label_id", "label_file", "repaired"]
    return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=WORK_CRS)


def _from_footprints(
    collection: LabelCollection,
    scene_id: str,
    scene_date: str | None,
    extent: BaseGeometry,
    window_days: int = MATCH_WINDOW_DAYS,
) -> SceneLabels:
    fps = collection.footprints
    hits = fps[
        fps.geometry.intersects(extent)
        & fps["image_date"].map(lambda d: _days_apart(d, scene_date) <= window_days)
    ]
    if hits.empty:
        return SceneLabels(scene_id, _empty_labels(collection), None)
    ids = sorted(hits["image_id"])
    resolved = match_scenes(collection, ids)
    frames = [resolved.scenes[i].labels for i in ids if len(resolved.scenes[i].labels)]
    labels = gpd.GeoDataFrame(pd.concat(frames), crs=WORK_CRS) if frames else _empty_labels(collection)
    truncated = tuple(sorted(t for i in ids for t in resolved.scenes[i].prefix_matched_ids))
    logger.info("Sentinel-2 scene %s matched footprints %s (%d labels)", scene_id, ids, len(labels))
    return SceneLabels(scene_id, labels, shapely.unary_union(hits.geometry.values), truncated)


def match_s2_scenes(
    collection: LabelCollection | None,
    refs: list[Any],
    extents: Mapping[str, BaseGeometry],
    window_days: int | None = None,
) -> tuple[LabelMatching, list[LabelFile], list[str]]:
    """Labels of every Sentinel-2 scene; also the per-sample label files read and repair notes.

    ``window_days``: largest footprint-to-scene date difference (None: :data:`MATCH_WINDOW_DAYS`).
    """
    window = MATCH_WINDOW_DAYS if window_days is None else window_days
    scenes: dict[str, SceneLabels] = {}
    files: list[LabelFile] = []
    notes: list[str] = []
    for ref in refs:
        labels_path: Path | None = getattr(ref, "labels_path", None)
        if labels_path is not None:
            labels = read_label_file(Path(labels_path), notes, image_id=ref.scene_id)
            files.append(LabelFile(Path(labels_path), "labels", sha256_file(Path(labels_path)), len(labels)))
            scenes[ref.scene_id] = SceneLabels(ref.scene_id, labels, None)
        elif collection is not None:
            scenes[ref.scene_id] = _from_footprints(
                collection, ref.scene_id, getattr(ref, "date", None), extents[ref.scene_id], window
            )
        else:
            scenes[ref.scene_id] = SceneLabels(ref.scene_id, _empty_labels(None), None)
    used = {i for s in scenes.values() for i in s.labels["image_id"]}
    unmatched = sorted(set(collection.labels["image_id"]) - used) if collection is not None else []
    return LabelMatching(scenes, unmatched, {}, {}), files, notes
