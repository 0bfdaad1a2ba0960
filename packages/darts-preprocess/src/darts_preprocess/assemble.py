"""Run the scene jobs (dask or in-process) and assemble the splits from the scene caches."""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from darts_core.atomic import replace_dir
from darts_core.errors import DartsError, DartsInputError
from darts_core.trainset_layout import CONFIG_FILE, SPLITS, SceneInfo, SplitWriter
from darts_preprocess.config import PlanetPreprocessConfig, S2PreprocessConfig
from darts_preprocess.helper_threads import helper_threads_for
from darts_preprocess.labels import LabelMatching
from darts_preprocess.patching import FILTERS
from darts_preprocess.report import PreprocessResult, labels_frame, write_labels, write_report
from darts_preprocess.scene_cache import SceneCache
from darts_preprocess.scene_job import SceneJob, SceneOutcome, SceneSettings, run_scene_job
from darts_preprocess.scene_threads import SceneThreads
from darts_preprocess.splits import SplitAssignment

logger = logging.getLogger(__name__)

STAGE_DIRNAME = ".assemble"
"""Folder inside train-data-dir where the splits are assembled before being renamed into place."""

Config = PlanetPreprocessConfig | S2PreprocessConfig


def build_jobs(
    refs: list[Any],
    matching: LabelMatching,
    settings: SceneSettings,
    cache: SceneCache,
    helper_threads: int | None = None,
) -> tuple[list[SceneJob], list[str]]:
    """Jobs for scenes not in the cache, and the ids of cached (resumed) scenes."""
    jobs, resumed = [], []
    for ref in refs:
        if cache.has(ref.scene_id):
            resumed.append(ref.scene_id)
            continue
        found = matching.scenes[ref.scene_id]
        jobs.append(
            SceneJob(
                scene_id=ref.scene_id,
                ref=ref,
                labels=found.labels[["label_uid", "geometry", "repaired"]],
                footprint=found.footprint,
                region=found.region,
                prefix_matched_ids=found.prefix_matched_ids,
                settings=settings,
                cache_root=cache.folder.parent,
                cache_settings=cache.settings,
                helper_threads=helper_threads,
            )
        )
    if resumed:
        logger.info("resuming: %d scene(s) already finished in %s", len(resumed), cache.folder)
    return jobs, resumed


@contextmanager
def dask_client(config: Any) -> Iterator[Any]:
    """A dask client: the given scheduler, or a LocalCluster of ``n_workers`` processes.

    ``config`` needs ``dask_scheduler``, ``n_workers`` and ``n_threads`` (preprocessing and
    segmentation configs both have them)."""
    from distributed import Client, LocalCluster

    if config.dask_scheduler:
        try:
            client = Client(config.dask_scheduler)
        except (OSError, TimeoutError, ValueError) as err:
            raise DartsInputError(
                f"dask-scheduler {config.dask_scheduler!r}: no dask scheduler reachable there ({err}); "
                "start one (`dask scheduler` plus `dask worker ADDRESS` on each host) or leave "
                "dask-scheduler unset to use a local cluster"
            ) from err
        with client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=config.n_workers,
            threads_per_worker=config.n_threads,
            processes=True,
            dashboard_address=":0",  # any free port: 8787 may be taken (None still binds it)
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def helper_threads_of(config: Config) -> int | None:
    """Warp/FFT threads per scene: this machine's CPUs shared by the scenes in flight (None: remote)."""
    if config.dask_scheduler:
        return None  # the workers' machines are unknown here: each uses its own default
    return helper_threads_for(config.n_workers * config.n_threads)


def runs_in_process(config: Config) -> bool:
    """True when the scenes run in threads of this process (one worker, no dask scheduler)."""
    return config.dask_scheduler is None and config.n_workers <= 1


def scene_threads_for(config: Config, settings: SceneSettings) -> SceneThreads:
    """The in-process scene threads of ``config`` (``dask_threads`` scenes at once)."""
    return SceneThreads(config.n_threads, settings, helper_threads_of(config))


def _iter_outcomes(
    jobs: list[SceneJob], config: Config, threads: SceneThreads | None
) -> Iterator[SceneOutcome]:
    if not jobs:
        return
    if runs_in_process(config):
        if threads is not None:
            yield from threads.run(jobs)
            return
        with scene_threads_for(config, jobs[0].settings) as own:
            yield from own.run(jobs)
        return
    from distributed import as_completed as dask_completed

    with dask_client(config) as client:
        token = uuid.uuid4().hex[:8]  # keys unique per run, also on a long-lived scheduler
        futures = client.map(run_scene_job, jobs, key=[f"darts-scene-{j.scene_id}-{token}" for j in jobs])
        for future in dask_completed(futures):
            yield future.result()
            future.release()


def run_jobs(
    jobs: list[SceneJob], config: Config, *, progress: bool = True, threads: SceneThreads | None = None
) -> dict[str, SceneOutcome]:
    """Process scenes in parallel; returns the outcome of each (skipped scenes carry a reason).

    ``threads``: in-process scene threads that may have started loading scenes already (see
    :mod:`.scene_threads`); without them, in-process runs make their own.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    outcomes: dict[str, SceneOutcome] = {}
    columns = (TextColumn("preprocessing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, disable=not progress or not jobs, transient=False) as bar:
        task = bar.add_task("scenes", total=len(jobs))
        for outcome in _iter_outcomes(jobs, config, threads):
            outcomes[outcome.scene_id] = outcome
            if outcome.status == "skipped":
                logger.warning("scene %s skipped: %s", outcome.scene_id, outcome.reason)
            else:
                logger.info(
                    "scene %s: %d patches (%d candidates, removed %s); labels %s",
                    outcome.scene_id,
                    outcome.n_patches,
                    outcome.n_candidates,
                    outcome.removed,
                    outcome.labels,
                )
            bar.advance(task)
    return outcomes


def _write_split(
    config: Config,
    stage: Path,
    split: str,
    scene_ids: list[str],
    outcomes: dict[str, SceneOutcome],
    cache: SceneCache,
    groups: dict[str, str],
) -> int:
    writer = SplitWriter(stage, split, config.bands, config.patch_size)
    # a cache that is removed after this run lends its chunk files (hard links); a kept one is copied
    link = config.preprocess_cache is None
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
    config: Config,
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
    root = config.train_data_dir
    stage = root / STAGE_DIRNAME
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    scenes = {s: [sid for sid in assignment.scenes_of(s) if sid in done] for s in SPLITS}
    groups = {sid: assignment.group_of(sid) for sid in done}
    n_patches = {s: _write_split(config, stage, s, scenes[s], done, cache, groups) for s in SPLITS}
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
