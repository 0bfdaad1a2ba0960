"""``preprocess_planet_train_data`` / ``preprocess_s2_train_data``: scenes + labels -> training set.

One pipeline for both sensors (only discovery and scene loading differ, see :mod:`.sensors`):

1. check settings and inputs up front (bands vs aux folders, test regions vs the admin file,
   an existing set built with other settings);
2. discover scenes, read and match labels, assign splits (from footprints, before any pixel work);
3. process the scenes not yet cached, in parallel with dask; each writes its own cache folder;
4. assemble the three splits from the caches in scene-id order (so the set does not depend on the
   processing order or on interruptions) in ``train-data-dir/.assemble``, with labels.geojson and
   the report; rename them into place; write config.toml last.

Resuming: a killed run leaves finished scenes in the cache and no config.toml; rerunning with the
same settings processes only the missing scenes and writes exactly the set a clean run writes.
A set is complete when config.toml exists; it is removed only for the renames that swap in a
new set, so an old complete set stays intact until the new one is fully assembled.
With ``dask_scheduler`` the workers must see the same file system (inputs and the cache).
Settings vs an existing complete set: if they differ (other than ``overwrite``) the run stops with
an error naming the differences — pass ``overwrite`` to rebuild; with identical settings the set is
complete: the run logs so and returns it without any work.
``overwrite`` acts only once every up-front check has passed (a typo never costs the old set): it
then unmarks the complete set (removes its config.toml) and clears this configuration's scene
cache; the old arrays are replaced by the renames at the end. A killed ``overwrite`` run, rerun
with the same arguments, finds no complete set and resumes from the cache like any other run.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from darts_core.errors import DartsFileNotFoundError, DartsInputError
from darts_core.recorded_paths import resolve_recorded
from darts_core.trainset_layout import CONFIG_FILE, write_training_set_config
from darts_preprocess.config import PlanetPreprocessConfig, S2PreprocessConfig
from darts_preprocess.labels import LabelFile, LabelMatching, load_label_collection, match_scenes
from darts_preprocess.report import (
    PreprocessResult,
    option_record,
    training_set_settings,
)
from darts_preprocess.s2_remote import S2RemoteSource
from darts_preprocess.scene_cache import SceneCache, has_finished_scenes
from darts_preprocess.scene_job import SceneOutcome, SceneSettings
from darts_preprocess.sensors import PLANET, SENSORS, SENTINEL2, Sensor, scene_extent
from darts_preprocess.splits import assign_splits

logger = logging.getLogger(__name__)

Config = PlanetPreprocessConfig | S2PreprocessConfig
RUNTIME_OPTIONS = frozenset(
    {
        "preprocess_device",
        "dask_worker",
        "dask_threads",
        "dask_scheduler",
        "ee_project",
        "ee_use_highvolume",
        "offline",
        "preprocess_cache",
        "overwrite",
        "s2_scene_ids",
        "s2_max_cloud_percent",
    }
)
"""Options that do not change the set: ignored when comparing with an existing set's config.toml."""


def preprocess_planet_train_data(
    config: PlanetPreprocessConfig, *, progress: bool = True
) -> PreprocessResult:
    """Build a training set from PlanetScope scenes (see the module docstring)."""
    return run_preprocessing(config, SENSORS[PLANET], config.data_dir, progress=progress)


def preprocess_s2_train_data(
    config: S2PreprocessConfig, *, progress: bool = True, s2_source: S2RemoteSource | None = None
) -> PreprocessResult:
    """Build a training set from Sentinel-2 scenes (see the module docstring).

    With ``s2_scene_ids`` or the footprint search (``ee_project`` + ``labels_dir`` +
    ``s2_date_window_days``), the scenes sentinel2-dir lacks are first fetched from ``s2_source``
    (default: Earth Engine), after the up-front checks; see :mod:`darts_preprocess.s2_remote`.
    """
    from darts_preprocess.s2_remote import fill_sentinel2_dir

    def fill() -> None:
        fill_sentinel2_dir(config, s2_source)

    return run_preprocessing(config, SENSORS[SENTINEL2], config.sentinel2_dir, progress=progress, fill=fill)


def _check_aux(config: Config) -> None:
    from darts_core.bands import BANDS, BandKind

    kinds = {BANDS[b].kind: b for b in config.bands}
    needs = (
        (BandKind.TERRAIN, config.arcticdem_dir, "arcticdem-dir"),
        (BandKind.TCVIS, config.tcvis_dir, "tcvis-dir"),
    )
    for kind, folder, option in needs:
        if kind in kinds and folder is None:
            wanted = [b for b in config.bands if BANDS[b].kind is kind]
            raise DartsInputError(f"band(s) {wanted} need {option}, which is not set")
    if config.test_regions and config.admin_dir is None:
        raise DartsInputError(f"test-regions {list(config.test_regions)} need admin-dir, which is not set")


def _load_test_regions(config: Config) -> dict[str, Any]:
    if not config.test_regions:
        return {}
    if config.admin_dir is None:  # _check_aux rejects this first
        raise DartsInputError(f"test-regions {list(config.test_regions)} need admin-dir, which is not set")
    from darts_preprocess.sources.admin import load_admin_regions
    from darts_preprocess.splits import select_test_regions

    return select_test_regions(load_admin_regions(config.admin_dir), config.test_regions)


def _start_rebuild(config: Config, cache: SceneCache) -> None:
    """``overwrite``: unmark a complete set and clear its scene cache (an unfinished set resumes)."""
    config_file = config.train_data_dir / CONFIG_FILE
    if not config_file.is_file():
        logger.info(
            "overwrite: no complete set in %s; finished scenes in the cache are reused", config.train_data_dir
        )
        return
    logger.info("overwrite: rebuilding the training set in %s from scratch", config.train_data_dir)
    cache.clear()
    config_file.unlink()


def _check_existing_set(config: Config) -> dict[str, Any] | None:
    """Refuse to mix settings with a finished set (``overwrite`` skips this; see :func:`_start_rebuild`).

    Returns the finished set's recorded ``[darts]`` table when its settings are those of ``config``.
    """
    config_file = config.train_data_dir / CONFIG_FILE
    root = config.train_data_dir
    if config.overwrite or not config_file.is_file():
        return None
    try:
        recorded = tomllib.loads(config_file.read_text()).get("darts", {})
    except tomllib.TOMLDecodeError as err:
        raise DartsInputError(
            f"{config_file} is not valid TOML ({err}); pass --overwrite to rebuild"
        ) from err
    current = {k: v for k, v in option_record(config).items() if k not in RUNTIME_OPTIONS}
    fields = set(type(config).model_fields) - RUNTIME_OPTIONS
    paths = {k for k in current if isinstance(getattr(config, k), Path)}

    def same(key: str, old: Any, new: Any) -> bool:
        if key in paths and isinstance(old, str):  # relative to the set, or absolute in older sets
            return os.path.abspath(resolve_recorded(old, root)) == os.path.abspath(
                resolve_recorded(new, root)
            )
        return old == new

    diffs = [
        f"{k}: {recorded.get(k)!r} -> {v!r}" for k, v in current.items() if not same(k, recorded.get(k), v)
    ]
    diffs += [f"{k}: {recorded[k]!r} -> unset" for k in recorded if k in fields and k not in current]
    if diffs:
        raise DartsInputError(
            f"train-data-dir {root} already holds a training set built with other settings ("
            + "; ".join(diffs)
            + "); pass --overwrite (overwrite = true in the config file) to rebuild it, "
            "or choose another train-data-dir"
        )
    return recorded


def _complete_result(config: Config, recorded: dict[str, Any]) -> PreprocessResult:
    """The result of a finished set, read from its config.toml (no scene is looked at)."""
    return PreprocessResult(
        train_data_dir=config.train_data_dir,
        n_patches=dict(recorded.get("n_patches", {})),
        scenes={},
        skipped=[(s["scene"], s["reason"]) for s in recorded.get("skipped_scenes", [])],
        scene_reports={},
        removed=dict(recorded.get("patches_removed", {})),
        unmatched_label_ids=list(recorded.get("unmatched_label_image_ids", [])),
    )


def _scene_settings(config: Config, sensor: Sensor) -> SceneSettings:
    return SceneSettings(
        sensor=sensor.name,
        bands=config.bands,
        patch_size=config.patch_size,
        overlap=config.overlap,
        exclude_nopositive=config.exclude_nopositive,
        exclude_nan=config.exclude_nan,
        mask_erosion_size=config.mask_erosion_size,
        tpi_outer_radius=config.tpi_outer_radius,
        tpi_inner_radius=config.tpi_inner_radius,
        arcticdem_dir=config.arcticdem_dir,
        tcvis_dir=config.tcvis_dir,
        ee_project=config.ee_project,
        ee_use_highvolume=config.ee_use_highvolume,
        offline=config.offline,
    )


@dataclass
class _Labels:
    """Labels matched to the discovered scenes, the files they came from and the repair notes."""

    matching: LabelMatching
    files: list[LabelFile]
    notes: list[str]


def _cache_settings(
    settings: SceneSettings, scene_dir: Path, labels: _Labels, window_days: int | None = None
) -> dict[str, Any]:
    record = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(settings).items()}
    if window_days is not None:  # footprint matching window: changes the labels of S2 scenes
        record["s2_date_window_days"] = window_days
    record.pop("ee_project", None)
    record.pop("ee_use_highvolume", None)
    record.pop("offline", None)
    record["scene_dir"] = str(scene_dir.resolve())
    record["label_files"] = sorted(f.sha256 for f in labels.files)
    return record


def _match_labels(config: Config, sensor: Sensor, refs: list[Any]) -> _Labels:
    """Read the label files and match them to the scenes (per sensor)."""
    labels_dir = config.labels_dir
    collection = load_label_collection(labels_dir) if labels_dir is not None else None
    if sensor.name != SENTINEL2:
        if collection is None:
            raise DartsInputError(f"{sensor.label} preprocessing needs labels-dir, which is not set")
        matching = match_scenes(collection, [r.scene_id for r in refs])
        return _Labels(matching, list(collection.files), list(collection.notes))
    from darts_preprocess.s2_labels import match_s2_scenes

    extents = {r.scene_id: scene_extent(sensor, r) for r in refs}
    window_days = getattr(config, "s2_date_window_days", None)
    matching, files, notes = match_s2_scenes(collection, refs, extents, window_days)
    if collection is not None:
        files, notes = list(collection.files) + files, list(collection.notes) + notes
    return _Labels(matching, files, notes)


def _usable(labels: _Labels, refs: list[Any], skipped: list[tuple[str, str]]) -> list[Any]:
    """Scenes with a footprint, labels or their own labels file; the others are skipped."""
    matching = labels.matching
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


@contextmanager
def _early_scene_threads(config: Config, settings: SceneSettings, refs: list[Any]) -> Iterator[Any]:
    """In-process scene threads that start loading ``refs`` now, while the labels are read.

    Only for a fresh run: with finished scenes in the cache (a resume) the jobs are known first,
    so no cached scene is loaded again. Yields None when the scenes run on dask workers.
    """
    from darts_preprocess.assemble import runs_in_process, scene_threads_for

    if not runs_in_process(config) or has_finished_scenes(config.cache_root):
        yield None
        return
    with scene_threads_for(config, settings) as threads:
        threads.start(refs)
        yield threads


def run_preprocessing(
    config: Config,
    sensor: Sensor,
    scene_dir: Path,
    *,
    progress: bool = True,
    fill: Callable[[], object] | None = None,
) -> PreprocessResult:
    """The shared pipeline; ``sensor`` supplies discovery and scene loading.

    ``fill`` (if given) runs after the up-front checks, before discovery: it may add scenes to
    ``scene_dir`` (the Sentinel-2 remote fill).
    """
    from darts_preprocess.assemble import assemble_training_set, build_jobs, helper_threads_of, run_jobs
    from darts_preprocess.sources._remote import UNREACHABLE

    start = time.perf_counter()
    UNREACHABLE.clear()  # a new run tries every remote service again
    _check_aux(config)
    if config.labels_dir is not None and not Path(config.labels_dir).is_dir():
        raise DartsFileNotFoundError(f"labels-dir {config.labels_dir} does not exist or is not a folder")
    if config.preprocess_device not in ("cpu", "auto"):
        logger.info(
            "band engineering runs on the CPU (numpy/scipy); preprocess-device %r is not used",
            config.preprocess_device,
        )
    test_regions = _load_test_regions(config)
    complete = _check_existing_set(config)
    if complete is not None:
        logger.info(
            "training set %s is complete with these settings: nothing to do (pass overwrite to rebuild it)",
            config.train_data_dir,
        )
        return _complete_result(config, complete)
    if fill is not None:
        fill()
    discovery = sensor.discover(Path(scene_dir))
    skipped = list(discovery.skipped)
    if not discovery.refs:
        raise DartsInputError(
            f"no {sensor.label} scenes found under {scene_dir}"
            + (f"; skipped: {skipped[:5]}" if skipped else " (the folder holds no scene folders)")
            + (f"; {sensor.empty_hint}" if sensor.empty_hint else "")
        )
    settings = _scene_settings(config, sensor)
    with _early_scene_threads(config, settings, discovery.refs) as threads:
        labels = _match_labels(config, sensor, discovery.refs)
        refs = _usable(labels, discovery.refs, skipped)
        matching = labels.matching
        footprints = {
            r.scene_id: matching.scenes[r.scene_id].footprint or scene_extent(sensor, r) for r in refs
        }
        assignment = assign_splits(footprints, config.test_val_split, config.seed, test_regions)
        window_days = getattr(config, "s2_date_window_days", None)
        cache = SceneCache(config.cache_root, _cache_settings(settings, Path(scene_dir), labels, window_days))
        if config.overwrite:
            _start_rebuild(config, cache)
        cache.prepare()
        jobs, resumed = build_jobs(refs, matching, settings, cache, helper_threads_of(config))
        outcomes = run_jobs(jobs, config, progress=progress, threads=threads)
    outcomes.update({sid: SceneOutcome.from_dict(cache.read_outcome(sid)) for sid in resumed})
    result = assemble_training_set(config, assignment, outcomes, cache, matching, labels.notes, skipped)
    result.n_processed, result.n_resumed = len(jobs), len(resumed)
    recorded = training_set_settings(config, sensor.name, result, labels.files)
    write_training_set_config(config.train_data_dir, recorded)
    if config.preprocess_cache is None:
        shutil.rmtree(config.cache_root, ignore_errors=True)
    result.seconds = round(time.perf_counter() - start, 2)
    logger.info("training set written to %s: %s patches", config.train_data_dir, result.n_patches)
    return result
