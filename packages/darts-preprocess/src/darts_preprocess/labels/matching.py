"""The labels stage of a run: read the label files, match them to the discovered scenes, drop the
scenes that have neither labels nor a footprint, and give each scene the footprint the splits use."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapely.geometry.base import BaseGeometry

from darts_core.errors import DartsInputError
from darts_preprocess.labels.collection import LabelFile, LabelMatching, load_label_collection, match_scenes
from darts_preprocess.scenes.sensors import SENTINEL2, Sensor, scene_extent

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelSettings:
    """Where the labels come from and how Sentinel-2 scenes are matched to footprints."""

    labels_dir: Path | None
    window_days: int | None = None
    """Sentinel-2 only: footprint-to-scene matching window in days (None: the default window)."""


@dataclass
class MatchedLabels:
    """Labels matched to the discovered scenes, the files they came from and the repair notes."""

    matching: LabelMatching
    files: list[LabelFile]
    notes: list[str]


def match_labels(settings: LabelSettings, sensor: Sensor, refs: list[Any]) -> MatchedLabels:
    """Read the label files and match them to the scenes (per sensor)."""
    labels_dir = settings.labels_dir
    collection = load_label_collection(labels_dir) if labels_dir is not None else None
    if sensor.name != SENTINEL2:
        if collection is None:
            raise DartsInputError(f"{sensor.label} preprocessing needs labels-dir, which is not set")
        matching = match_scenes(collection, [r.scene_id for r in refs])
        return MatchedLabels(matching, list(collection.files), list(collection.notes))
    from darts_preprocess.labels.s2_labels import match_s2_scenes

    extents = {r.scene_id: scene_extent(sensor, r) for r in refs}
    matching, files, notes = match_s2_scenes(collection, refs, extents, settings.window_days)
    if collection is not None:
        files, notes = list(collection.files) + files, list(collection.notes) + notes
    return MatchedLabels(matching, files, notes)


def usable_scenes(matching: LabelMatching, refs: list[Any], skipped: list[tuple[str, str]]) -> list[Any]:
    """Scenes with a footprint, labels or their own labels file; the others are appended to ``skipped``."""
    usable = []
    for ref in refs:
        found = matching.scenes[ref.scene_id]
        if found.footprint is None and found.labels.empty and getattr(ref, "labels_path", None) is None:
            skipped.append((ref.scene_id, "no footprint and no labels for this scene in labels-dir"))
        else:
            usable.append(ref)
    if not usable:
        label_ids = sorted(set(matching.unmatched_label_ids))
        raise DartsInputError(
            f"none of the {len(refs)} scene(s) matches a label or footprint image id in labels-dir "
            f"(label image ids look like {label_ids[:3]}, scene ids like {[r.scene_id for r in refs[:3]]})"
        )
    if matching.unmatched_label_ids:
        logger.warning(
            "%d label image id(s) match no scene and are not used: %s",
            len(matching.unmatched_label_ids),
            ", ".join(matching.unmatched_label_ids[:10])
            + (" ..." if len(matching.unmatched_label_ids) > 10 else ""),
        )
    return usable


def scene_footprints(matching: LabelMatching, sensor: Sensor, refs: list[Any]) -> dict[str, BaseGeometry]:
    """Footprint of each scene (EPSG:4326): from the footprint file, else the image extent."""
    return {r.scene_id: matching.scenes[r.scene_id].footprint or scene_extent(sensor, r) for r in refs}
