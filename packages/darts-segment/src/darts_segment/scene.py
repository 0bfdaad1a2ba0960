"""One scene: raw scene -> model input -> probabilities -> output folder.

:func:`segment_model_input` is the notebook-friendly core (an ``xarray`` scene in, a probability
map out); :func:`segment_scene_task` adds reading and writing, and turns a scene's failure
(unreadable raster, no DEM coverage) into a :class:`SceneResult` with the reason.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from darts_core.errors import DartsError
from darts_preprocess.engineering.model_input import VALID_VAR, ModelInputSettings, load_model_input
from darts_preprocess.jobs.helper_threads import limit_helper_threads
from darts_preprocess.scenes.sensors import scene_raster_path
from darts_segment.models import ModelChoice, worker_models
from darts_segment.outputs import start_scene_folder, write_scene_outputs

logger = logging.getLogger(__name__)

DONE, FINISHED, FAILED = "done", "finished", "failed"
"""Scene statuses: segmented now, already finished earlier (skipped), failed (reason given)."""


@dataclass
class SceneResult:
    """What happened to one scene."""

    scene_id: str
    status: str
    """``done``, ``finished`` (had a finished folder; not redone) or ``failed``."""
    folder: str = ""
    reason: str = ""
    n_polygons: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        return asdict(self)


@dataclass(frozen=True)
class InferenceOptions:
    """How to cut a scene into patches and turn probabilities into maps."""

    patch_size: int
    overlap: int
    batch_size: int = 8
    threshold: float = 0.5
    min_area_m2: float = 0.0


@dataclass(frozen=True)
class SceneTask:
    """Everything a worker needs for one scene (picklable)."""

    scene_id: str
    ref: Any
    bands: tuple[str, ...]
    inputs: ModelInputSettings
    options: InferenceOptions
    choice: ModelChoice
    folder: Path
    overwrite: bool = False
    record: dict[str, Any] = field(default_factory=dict)
    """Run-wide part of run.json (models, options, versions)."""
    helper_threads: int | None = None


def segment_model_input(
    predictor: Any, scene: xr.Dataset, options: InferenceOptions, *, release_bands: bool = False
) -> xr.DataArray:
    """RTS probabilities (float32 0..1, NaN where the scene is not valid) of a model-input scene.

    ``scene`` is what :func:`darts_preprocess.engineering.model_input.load_model_input` returns (physical band
    values, optionally a ``valid`` mask); ``predictor`` what :func:`darts_models.load_predictor`
    returns. The result has the scene's coordinates and CRS. ``release_bands`` deletes the model's
    band variables from ``scene`` as they are normalised (see :func:`darts_models.segment_scene`).
    """
    from darts_models import segment_scene

    probs = segment_scene(
        predictor,
        scene,
        patch_size=options.patch_size,
        overlap=options.overlap,
        batch_size=options.batch_size,
        release_bands=release_bands,
    )
    if VALID_VAR in scene:
        probs = probs.where(scene[VALID_VAR].values)
    return probs


def _segment(task: SceneTask, models: Any) -> SceneResult:
    start = time.perf_counter()
    start_scene_folder(task.folder, task.overwrite)
    with limit_helper_threads(task.helper_threads):
        scene = load_model_input(task.ref, task.bands, task.inputs)
    loaded = time.perf_counter()
    probs = segment_model_input(models, scene, task.options, release_bands=True)  # one stack less
    predicted = time.perf_counter()
    geobox = scene.odc.geobox
    valid = np.asarray(scene[VALID_VAR].values)
    del scene
    source = scene_raster_path(task.ref)
    record = dict(task.record) | {
        "scene_id": task.scene_id,
        "scene_file": str(source) if source is not None else None,
        "timings": {"load_s": round(loaded - start, 3), "predict_s": round(predicted - loaded, 3)},
    }
    written = write_scene_outputs(
        task.folder,
        task.scene_id,
        np.asarray(probs.values, dtype=np.float32),
        valid,
        geobox.affine,
        geobox.crs.to_wkt(),
        threshold=task.options.threshold,
        min_area_m2=task.options.min_area_m2,
        record=record,
    )
    seconds = round(time.perf_counter() - start, 3)
    return SceneResult(task.scene_id, DONE, str(task.folder), n_polygons=written.n_polygons, seconds=seconds)


def segment_scene_task(task: SceneTask, models: Any) -> SceneResult:
    """Segment one scene and write its folder; a darts input error or an I/O error fails only it."""
    try:
        return _segment(task, models)
    except (DartsError, OSError) as err:
        logger.debug("scene %s failed", task.scene_id, exc_info=True)
        return SceneResult(task.scene_id, FAILED, str(task.folder), reason=f"{type(err).__name__}: {err}")


def run_scene_task(task: SceneTask) -> SceneResult:
    """Dask worker entry point: the worker's models (loaded once per worker), then the scene."""
    from darts_preprocess.jobs.scene_job import ignore_spurious_rasterio_warnings

    ignore_spurious_rasterio_warnings()
    return segment_scene_task(task, worker_models(task.choice))
