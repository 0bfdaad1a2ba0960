"""``segment_planet_scenes`` / ``segment_s2_scenes``: trained models over many scenes.

1. check up front, before any scene is read: the model files load and agree on bands, the sensor
   provides every band, the caches those bands need are set, the scenes exist (``scene_ids``);
2. skip scenes with a finished output folder (``run.json`` present) unless ``overwrite``;
3. segment the others in parallel: in threads of this process sharing one model load (default), or
   on dask workers (``dask_worker`` > 1 or ``dask_scheduler``), each loading the models once;
4. a scene that fails (unreadable raster, no DEM coverage) is reported with its reason; the others go on.

Resuming: a killed run leaves finished folders (with run.json) and unfinished ones (temporary files,
no run.json); a rerun skips the first and redoes the second.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from darts_core.errors import DartsInputError
from darts_preprocess.engineering.model_input import ModelInputSettings
from darts_preprocess.jobs.helper_threads import helper_threads_for
from darts_preprocess.scenes.sensors import PLANET, SENSORS, SENTINEL2, Sensor
from darts_segment.config import SegmentConfig, SegmentPlanetConfig, SegmentS2Config
from darts_segment.models import (
    ModelChoice,
    check_files_for_sensor,
    load_models,
    model_needs,
    model_records,
)
from darts_segment.outputs import is_finished
from darts_segment.record import run_record
from darts_segment.scene import (
    FAILED,
    FINISHED,
    InferenceOptions,
    SceneResult,
    SceneTask,
    run_scene_task,
    segment_scene_task,
)

logger = logging.getLogger(__name__)


@dataclass
class SegmentResult:
    """Outcome of a run: one :class:`SceneResult` per scene, in scene-id order."""

    output_dir: Path
    scenes: list[SceneResult]
    skipped_inputs: list[tuple[str, str]] = field(default_factory=list)
    """Paths discovery skipped (not scenes), with the reason."""
    seconds: float = 0.0

    def with_status(self, status: str) -> list[SceneResult]:
        """The scenes with this status."""
        return [s for s in self.scenes if s.status == status]

    @property
    def all_failed(self) -> bool:
        """True when there were scenes and every one failed."""
        return bool(self.scenes) and all(s.status == FAILED for s in self.scenes)

    @property
    def any_failed(self) -> bool:
        """True when some scene failed."""
        return any(s.status == FAILED for s in self.scenes)


def segment_planet_scenes(config: SegmentPlanetConfig, *, progress: bool = True) -> SegmentResult:
    """Segment PlanetScope scenes (see the module docstring)."""
    return run_segmentation(config, SENSORS[PLANET], config.data_dir, progress=progress)


def segment_s2_scenes(config: SegmentS2Config, *, progress: bool = True) -> SegmentResult:
    """Segment Sentinel-2 scenes (see the module docstring)."""
    return run_segmentation(config, SENSORS[SENTINEL2], config.sentinel2_dir, progress=progress)


def _check_aux(config: SegmentConfig, bands: tuple[str, ...]) -> None:
    from darts_core.bands import BANDS, BandKind

    for kind, folder, option in (
        (BandKind.TERRAIN, config.arcticdem_dir, "arcticdem-dir"),
        (BandKind.TCVIS, config.tcvis_dir, "tcvis-dir"),
    ):
        wanted = [b for b in bands if BANDS[b].kind is kind]
        if wanted and folder is None:
            raise DartsInputError(f"the model's band(s) {wanted} need {option}, which is not set")


def _select(refs: list[Any], scene_ids: tuple[str, ...], scene_dir: Path, label: str) -> list[Any]:
    if not scene_ids:
        return sorted(refs, key=lambda r: r.scene_id)
    by_id = {r.scene_id: r for r in refs}
    unknown = [s for s in scene_ids if s not in by_id]
    if unknown:
        raise DartsInputError(
            f"scene id(s) {unknown} not found among the {len(refs)} {label} scene(s) under {scene_dir}"
            f" (found e.g. {sorted(by_id)[:3]})"
        )
    return [by_id[s] for s in sorted(scene_ids)]


def _inference_options(config: SegmentConfig, default_patch: int | None) -> InferenceOptions:
    patch_size = config.patch_size or default_patch or 1024
    overlap = config.resolved_overlap(patch_size)
    if 2 * overlap >= patch_size:
        raise DartsInputError(f"overlap ({overlap}) must be less than half the patch size ({patch_size})")
    return InferenceOptions(patch_size, overlap, config.batch_size, config.threshold, config.min_area_m2)


def _input_settings(config: SegmentConfig, sensor: Sensor) -> ModelInputSettings:
    return ModelInputSettings(
        sensor=sensor.name,
        arcticdem_dir=config.arcticdem_dir,
        tcvis_dir=config.tcvis_dir,
        tpi_outer_radius=config.tpi_outer_radius,
        tpi_inner_radius=config.tpi_inner_radius,
        ee_project=config.ee_project,
        ee_use_highvolume=config.ee_use_highvolume,
        offline=config.offline,
    )


def run_segmentation(
    config: SegmentConfig, sensor: Sensor, scene_dir: Path, *, progress: bool = True
) -> SegmentResult:
    """The shared run; ``sensor`` supplies discovery and scene loading."""
    start = time.perf_counter()
    choice = ModelChoice(
        config.model_file, config.runtime, config.segment_device, config.precision, config.tta
    )
    # in-process runs keep this load; with dask workers it only checks the files (on the CPU)
    local = choice if config.in_process else ModelChoice(choice.files, choice.runtime, "cpu", "fp32", "none")
    check_files_for_sensor(choice, sensor.name)
    models = load_models(local)
    needs = model_needs(models)
    _check_aux(config, needs.bands)
    options = _inference_options(config, needs.patch_size)
    discovery = sensor.discover(Path(scene_dir))
    if not discovery.refs:
        raise DartsInputError(
            f"no {sensor.label} scenes found under {scene_dir}"
            + (f"; skipped: {discovery.skipped[:5]}" if discovery.skipped else "")
        )
    refs = _select(discovery.refs, config.scene_ids, Path(scene_dir), sensor.label)
    record = run_record(config, sensor.name, model_records(models), options, needs.bands)
    helpers = None if config.dask_scheduler else helper_threads_for(config.n_workers * config.n_threads)
    results: dict[str, SceneResult] = {}
    tasks = []
    for ref in refs:
        folder = config.output_dir / ref.scene_id
        if is_finished(folder) and not config.overwrite:
            results[ref.scene_id] = SceneResult(ref.scene_id, FINISHED, str(folder))
            continue
        tasks.append(
            SceneTask(
                ref.scene_id, ref, needs.bands, _input_settings(config, sensor), options, choice, folder,
                config.overwrite, record, helpers,
            )
        )  # fmt: skip
    if results:
        logger.info("%d scene(s) already finished in %s; not redone", len(results), config.output_dir)
    for result in _run_tasks(tasks, config, models if config.in_process else None, progress):
        results[result.scene_id] = result
    scenes = [results[r.scene_id] for r in refs]
    seconds = round(time.perf_counter() - start, 2)
    skipped = [(str(p), reason) for p, reason in discovery.skipped]
    return SegmentResult(config.output_dir, scenes, skipped, seconds)


def _iter_results(tasks: list[SceneTask], config: SegmentConfig, models: Any) -> Iterator[SceneResult]:
    if not tasks:
        return
    if models is not None:
        from concurrent.futures import ThreadPoolExecutor, as_completed

        with ThreadPoolExecutor(config.n_threads, thread_name_prefix="darts-segment") as pool:
            futures = [pool.submit(segment_scene_task, task, models) for task in tasks]
            for future in as_completed(futures):
                yield future.result()
        return
    import uuid

    from distributed import as_completed as dask_completed

    from darts_preprocess.jobs.run_jobs import dask_client

    with dask_client(config) as client:
        token = uuid.uuid4().hex[:8]
        keys = [f"darts-segment-{t.scene_id}-{token}" for t in tasks]
        for future in dask_completed(client.map(run_scene_task, tasks, key=keys)):
            yield future.result()
            future.release()


def _run_tasks(
    tasks: list[SceneTask], config: SegmentConfig, models: Any, progress: bool
) -> Iterator[SceneResult]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("segmenting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, disable=not progress or not tasks, transient=False) as bar:
        task_id = bar.add_task("scenes", total=len(tasks))
        for result in _iter_results(tasks, config, models):
            if result.status == FAILED:
                logger.warning("scene %s failed: %s", result.scene_id, result.reason)
            else:
                logger.info(
                    "scene %s: %d polygon(s) in %.1f s", result.scene_id, result.n_polygons, result.seconds
                )
            bar.advance(task_id)
            yield result
