"""``preprocess_planet_train_data`` / ``preprocess_s2_train_data``: scenes + labels -> training set.

One pipeline for both sensors (only discovery and scene loading differ, see :mod:`.scenes.sensors`).
:func:`run_preprocessing` reads top to bottom as the stages run; each stage gets only its own
settings (:mod:`.stage_settings`), never the config object:

1. check settings and inputs up front (bands vs aux folders, test regions vs the admin file,
   an existing set built with other settings: :mod:`.trainset.existing`);
2. discover the scenes (:mod:`.scenes`); in-process runs start loading them at once;
3. read the labels and match them to the scenes (:mod:`.labels.matching`), assign the splits from
   the footprints (:mod:`.trainset.splits`), before any pixel work;
4. process the scenes not yet cached (:mod:`.jobs`): read, engineer bands, rasterise labels, mask,
   cut patches; each scene writes its own cache folder;
5. assemble the three splits from the caches in scene-id order (so the set does not depend on the
   processing order or on interruptions) in ``train-data-dir/.assemble``, with labels.geojson and
   the report; rename them into place (:mod:`.trainset.assemble`); write config.toml last.

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
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from darts_core.bands import BANDS, BandKind
from darts_core.errors import DartsFileNotFoundError, DartsInputError
from darts_core.trainset_layout import write_training_set_config
from darts_preprocess.config import PlanetPreprocessConfig, S2PreprocessConfig
from darts_preprocess.jobs.scene_cache import SceneCache
from darts_preprocess.jobs.scene_job import SceneOutcome
from darts_preprocess.scenes.s2_remote import S2RemoteSource
from darts_preprocess.scenes.sensors import PLANET, SENSORS, SENTINEL2, Discovery, Sensor
from darts_preprocess.stage_settings import s2_fill_settings, stage_settings
from darts_preprocess.trainset.report import (
    PreprocessResult,
    training_set_settings,
)
from darts_preprocess.trainset.splits import assign_splits

logger = logging.getLogger(__name__)

Config = PlanetPreprocessConfig | S2PreprocessConfig


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
    (default: Earth Engine), after the up-front checks; see :mod:`darts_preprocess.scenes.s2_remote`.
    """
    from darts_preprocess.scenes.s2_remote import fill_sentinel2_dir

    def fill() -> None:
        fill_sentinel2_dir(s2_fill_settings(config), s2_source)

    return run_preprocessing(config, SENSORS[SENTINEL2], config.sentinel2_dir, progress=progress, fill=fill)


def check_inputs(config: Config) -> None:
    """Settings that contradict each other or name a missing folder (before any work)."""
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
    if config.labels_dir is not None and not Path(config.labels_dir).is_dir():
        raise DartsFileNotFoundError(f"labels-dir {config.labels_dir} does not exist or is not a folder")
    if config.preprocess_device not in ("cpu", "auto"):
        logger.info(
            "band engineering runs on the CPU (numpy/scipy); preprocess-device %r is not used",
            config.preprocess_device,
        )


def discover_scenes(sensor: Sensor, scene_dir: Path) -> Discovery:
    """The sensor's scenes under ``scene_dir``; none at all is an error naming what was skipped."""
    discovery = sensor.discover(scene_dir)
    if not discovery.refs:
        skipped = discovery.skipped
        raise DartsInputError(
            f"no {sensor.label} scenes found under {scene_dir}"
            + (f"; skipped: {skipped[:5]}" if skipped else " (the folder holds no scene folders)")
            + (f"; {sensor.empty_hint}" if sensor.empty_hint else "")
        )
    return discovery


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
    from darts_preprocess.jobs.run_jobs import build_jobs, early_scene_threads, run_jobs
    from darts_preprocess.jobs.scene_job import cache_record
    from darts_preprocess.labels.matching import match_labels, scene_footprints, usable_scenes
    from darts_preprocess.sources._remote import UNREACHABLE
    from darts_preprocess.trainset.assemble import assemble_training_set
    from darts_preprocess.trainset.existing import check_existing_set, complete_result, start_rebuild
    from darts_preprocess.trainset.splits import load_test_regions

    start = time.perf_counter()
    UNREACHABLE.clear()  # a new run tries every remote service again
    check_inputs(config)
    stages = stage_settings(config, sensor.name)
    test_regions = load_test_regions(stages.splits)
    complete = check_existing_set(stages.record, stages.overwrite)
    if complete is not None:
        logger.info(
            "training set %s is complete with these settings: nothing to do (pass overwrite to rebuild it)",
            config.train_data_dir,
        )
        return complete_result(config.train_data_dir, complete)
    if fill is not None:
        fill()
    discovery = discover_scenes(sensor, Path(scene_dir))
    skipped = list(discovery.skipped)
    with early_scene_threads(stages.run, stages.scene, discovery.refs, stages.cache_root) as threads:
        labels = match_labels(stages.labels, sensor, discovery.refs)
        refs = usable_scenes(labels.matching, discovery.refs, skipped)
        footprints = scene_footprints(labels.matching, sensor, refs)
        assignment = assign_splits(footprints, stages.splits.test_val_split, stages.splits.seed, test_regions)
        label_hashes = [f.sha256 for f in labels.files]
        record = cache_record(stages.scene, Path(scene_dir), label_hashes, stages.labels.window_days)
        cache = SceneCache(stages.cache_root, record)
        if stages.overwrite:
            start_rebuild(config.train_data_dir, cache)
        cache.prepare()
        jobs, resumed = build_jobs(refs, labels.matching, stages.scene, cache, stages.run.helper_threads)
        outcomes = run_jobs(jobs, stages.run, progress=progress, threads=threads)
    outcomes.update({sid: SceneOutcome.from_dict(cache.read_outcome(sid)) for sid in resumed})
    result = assemble_training_set(
        stages.write, assignment, outcomes, cache, labels.matching, labels.notes, skipped
    )
    result.n_processed, result.n_resumed = len(jobs), len(resumed)
    write_training_set_config(
        config.train_data_dir, training_set_settings(stages.record, sensor.name, result, labels.files)
    )
    if not stages.keep_cache:
        shutil.rmtree(stages.cache_root, ignore_errors=True)
    result.seconds = round(time.perf_counter() - start, 2)
    logger.info("training set written to %s: %s patches", config.train_data_dir, result.n_patches)
    return result
