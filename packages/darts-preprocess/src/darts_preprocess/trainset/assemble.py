"""Assemble the three splits, labels.geojson and the report from the scene caches, then swap them in."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from darts_core.atomic import replace_dir
from darts_core.errors import DartsError
from darts_core.trainset_layout import CONFIG_FILE, SPLITS, SceneInfo, SplitWriter
from darts_preprocess.jobs.scene_cache import SceneCache
from darts_preprocess.jobs.scene_job import SceneOutcome
from darts_preprocess.labels.collection import LabelMatching
from darts_preprocess.patches.patching import FILTERS
from darts_preprocess.trainset.report import PreprocessResult, labels_frame, write_labels, write_report
from darts_preprocess.trainset.splits import SplitAssignment

logger = logging.getLogger(__name__)

STAGE_DIRNAME = ".assemble"
"""Folder inside train-data-dir where the splits are assembled before being renamed into place."""


@dataclass(frozen=True)
class WriteSettings:
    """What the assembly of the splits needs."""

    train_data_dir: Path
    bands: tuple[str, ...]
    patch_size: int
    link_chunks: bool
    """Hard-link the scene caches' chunk files (the cache is removed after the run) instead of copying."""


def _write_split(
    write: WriteSettings,
    stage: Path,
    split: str,
    scene_ids: list[str],
    outcomes: dict[str, SceneOutcome],
    cache: SceneCache,
    groups: dict[str, str],
) -> int:
    writer = SplitWriter(stage, split, write.bands, write.patch_size)
    # a cache that is removed after this run lends its chunk files (hard links); a kept one is copied
    link = write.link_chunks
    for scene_id in scene_ids:
        outcome = outcomes[scene_id]
        meta = cache.read_meta(scene_id)
        writer.append_stored(
            SceneInfo(id=scene_id, region=outcome.region, crs=outcome.crs, group=groups[scene_id]),
            cache.patch_store(scene_id),
            meta["patch_row"],
            meta["patch_col"],
            meta["geotransform"],
            link=link,
            positive_fraction=meta["positive_fraction"],
        )
    writer.finish()
    return writer.n


def assemble_training_set(
    write: WriteSettings,
    assignment: SplitAssignment,
    outcomes: dict[str, SceneOutcome],
    cache: SceneCache,
    matching: LabelMatching,
    label_notes: list[str],
    skipped: list[tuple[str, str]],
) -> PreprocessResult:
    """Write the three splits, labels.geojson and the report (config.toml is written by the caller)."""
    done = {k: v for k, v in outcomes.items() if v.status == "done"}
    skipped = skipped + sorted((k, v.reason) for k, v in outcomes.items() if v.status != "done")
    if not done:
        reasons = "; ".join(f"{s}: {r}" for s, r in skipped[:5])
        raise DartsError(f"no scene could be processed ({len(skipped)} skipped): {reasons}")
    root = write.train_data_dir
    stage = root / STAGE_DIRNAME
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    scenes = {s: [sid for sid in assignment.scenes_of(s) if sid in done] for s in SPLITS}
    groups = {sid: assignment.group_of(sid) for sid in done}
    n_patches = {s: _write_split(write, stage, s, scenes[s], done, cache, groups) for s in SPLITS}
    result = PreprocessResult(
        train_data_dir=Path(root),
        n_patches=n_patches,
        scenes=scenes,
        skipped=skipped,
        scene_reports=dict(sorted(done.items())),
        removed={f: sum(o.removed.get(f, 0) for o in done.values()) for f in FILTERS},
        label_notes=list(label_notes) + _labels_of_failed_scenes(matching, outcomes),
        unmatched_label_ids=list(matching.unmatched_label_ids),
    )
    used = {sid: assignment.split[sid] for sid in done}
    labels, scene_of = _used_labels(matching, used)
    status = {uid: st for o in done.values() for uid, st in o.label_status.items()}
    write_labels(stage, labels_frame(labels, scene_of, used, status))
    write_report(stage, result)
    _move_into_place(stage, root)
    return result


def _labels_of_failed_scenes(matching: LabelMatching, outcomes: dict[str, SceneOutcome]) -> list[str]:
    """A note (also logged) for every scene that failed with labels: those labels are not in the set."""
    notes = []
    for scene_id, outcome in sorted(outcomes.items()):
        n_labels = len(matching.scenes[scene_id].labels)
        if outcome.status != "done" and n_labels:
            notes.append(f"{n_labels} label(s) of skipped scene {scene_id} not used ({outcome.reason})")
            logger.warning("%s", notes[-1])
    return notes


def _move_into_place(stage: Path, root: Path) -> None:
    """Swap the staged outputs in with renames; config.toml (the completeness mark) stays absent."""
    (root / CONFIG_FILE).unlink(missing_ok=True)
    for staged in sorted(stage.iterdir()):
        target = root / staged.name
        if target.is_dir():
            replace_dir(staged, target)
        else:
            staged.replace(target)
    stage.rmdir()


def _used_labels(matching: LabelMatching, used: dict[str, str]) -> tuple[Any, pd.Series]:
    """Labels of the processed scenes (fresh index) and the scene of each row."""
    import geopandas as gpd

    frames = [matching.scenes[sid].labels for sid in sorted(used)]
    scenes = [sid for sid in sorted(used) for _ in range(len(matching.scenes[sid].labels))]
    labels = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
    return labels, pd.Series(scenes, index=labels.index, dtype=object)
