"""One scene, start to finish: load, engineer bands, burn labels, mask, patch, write its cache.

:func:`run_scene_job` runs inside a dask worker (or in-process). It holds one scene in memory,
writes the patches to the scene cache and returns only a small report, so memory stays bounded by
the number of workers. Its two halves are public for the in-process scene threads
(:mod:`.scene_threads`): :func:`load_scene_inputs` needs no labels, :func:`finish_scene` does.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
from odc.geo.geobox import GeoBox
from shapely.geometry.base import BaseGeometry

from darts_core.bands import normalize_bands
from darts_core.errors import DartsError
from darts_core.trainset_layout import positive_fractions
from darts_preprocess.engineering.model_input import VALID_VAR, ModelInputSettings, load_model_input
from darts_preprocess.jobs.helper_threads import limit_helper_threads
from darts_preprocess.jobs.scene_cache import SceneCache
from darts_preprocess.labels.rasterize import LabelBurnReport, burn_labels, geometry_mask
from darts_preprocess.labels.target import build_target
from darts_preprocess.patches.patching import make_patches

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SceneSettings:
    """Settings every scene job needs (picklable, no paths to outputs)."""

    sensor: str
    bands: tuple[str, ...]
    patch_size: int
    overlap: int
    exclude_nopositive: bool
    exclude_nan: bool
    mask_erosion_size: int
    tpi_outer_radius: int
    tpi_inner_radius: int
    arcticdem_dir: Path | None
    tcvis_dir: Path | None
    ee_project: str | None = None
    ee_use_highvolume: bool = True
    offline: bool = False
    """Never contact a remote service: a cache lacking an area fails the scene at once."""


def cache_record(
    settings: SceneSettings, scene_dir: Path, label_hashes: list[str], window_days: int | None = None
) -> dict[str, Any]:
    """The settings that fingerprint the scene cache: a change of any of them rebuilds every scene.

    ``label_hashes``: sha256 of the label files; ``window_days``: the Sentinel-2 footprint matching
    window, which changes the labels of a scene. Remote-service options do not change a scene.
    """
    record = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(settings).items()}
    if window_days is not None:
        record["s2_date_window_days"] = window_days
    record.pop("ee_project", None)
    record.pop("ee_use_highvolume", None)
    record.pop("offline", None)
    record["scene_dir"] = str(scene_dir.resolve())
    record["label_files"] = sorted(label_hashes)
    return record


@dataclass(frozen=True)
class SceneJob:
    """Everything a worker needs for one scene."""

    scene_id: str
    ref: Any
    labels: gpd.GeoDataFrame
    """Matched labels (EPSG:4326) with ``label_uid`` and ``repaired`` columns."""
    footprint: BaseGeometry | None
    """Footprint in EPSG:4326, None = image extent."""
    region: str
    prefix_matched_ids: tuple[str, ...]
    settings: SceneSettings
    cache_root: Path
    cache_settings: dict[str, Any]
    helper_threads: int | None = None
    """Threads the scene's warps and FFTs may use; None = the default of the machine it runs on."""


@dataclass
class SceneOutcome:
    """Report of one scene (also stored in its cache, so resumed scenes report the same)."""

    scene_id: str
    status: str
    """'done' or 'skipped'."""
    reason: str = ""
    crs: str = ""
    region: str = ""
    shape: tuple[int, int] = (0, 0)
    n_patches: int = 0
    n_candidates: int = 0
    removed: dict[str, int] = field(default_factory=dict)
    labels: dict[str, Any] = field(default_factory=dict)
    positive_pixels: int = 0
    label_status: dict[str, str] = field(default_factory=dict)
    """label_uid -> 'outside_image' or 'too_small' for labels that burned nothing."""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SceneOutcome:
        """Inverse of :meth:`to_dict`."""
        data = dict(data)
        data["shape"] = tuple(data.get("shape", (0, 0)))
        return cls(**data)


def _crs_string(crs: Any) -> str:
    epsg = crs.to_epsg() if hasattr(crs, "to_epsg") else None
    return f"EPSG:{epsg}" if epsg else str(crs.to_wkt())


def input_settings(settings: SceneSettings) -> ModelInputSettings:
    """The part of a scene job's settings that turns a raw scene into model input."""
    return ModelInputSettings(
        sensor=settings.sensor,
        arcticdem_dir=settings.arcticdem_dir,
        tcvis_dir=settings.tcvis_dir,
        tpi_outer_radius=settings.tpi_outer_radius,
        tpi_inner_radius=settings.tpi_inner_radius,
        ee_project=settings.ee_project,
        ee_use_highvolume=settings.ee_use_highvolume,
        offline=settings.offline,
    )


def _labels_in_scene_crs(job: SceneJob, crs: Any) -> tuple[list[BaseGeometry], BaseGeometry | None]:
    geoms = list(gpd.GeoSeries(job.labels.geometry.values, crs="EPSG:4326").to_crs(crs).values)
    footprint = None
    if job.footprint is not None:
        footprint = gpd.GeoSeries([job.footprint], crs="EPSG:4326").to_crs(crs).iloc[0]
    return geoms, footprint


def _label_status(job: SceneJob, outside: np.ndarray, too_small: np.ndarray) -> dict[str, str]:
    uids = job.labels["label_uid"].tolist()
    status = {uid: "outside_image" for uid, out in zip(uids, outside, strict=True) if out}
    status.update({uid: "too_small" for uid, small in zip(uids, too_small, strict=True) if small})
    return status


@dataclass
class SceneInputs:
    """The label-independent part of a scene (reads, warps, band engineering: most of its work)."""

    x: np.ndarray
    """Normalised model input, float32 ``[c, h, w]``, NaN where a band has no data."""
    nan: np.ndarray
    """bool ``[h, w]``: any band of x is NaN."""
    quality: np.ndarray
    """uint8 ``[h, w]``: 0 invalid, 1 low, 2 high."""
    geobox: GeoBox
    seconds: float = 0.0


def load_scene_inputs(ref: Any, settings: SceneSettings, helper_threads: int | None = None) -> SceneInputs:
    """Load a scene and engineer its bands (no labels needed); raises on any error."""
    start = time.perf_counter()
    with limit_helper_threads(helper_threads):
        scene = load_model_input(ref, settings.bands, input_settings(settings))
        geobox = scene.odc.geobox
        x = normalize_bands({b: scene[b].values for b in settings.bands}, settings.bands)
    quality = np.asarray(scene["quality"].values)
    nan = ~np.asarray(scene[VALID_VAR].values)
    del scene
    return SceneInputs(x, nan, quality, geobox, time.perf_counter() - start)


def process_scene(job: SceneJob) -> SceneOutcome:
    """Process one scene and write its cache; raises on any error."""
    return finish_scene(job, load_scene_inputs(job.ref, job.settings, job.helper_threads))


def finish_scene(job: SceneJob, inputs: SceneInputs) -> SceneOutcome:
    """Burn the labels into the loaded scene, cut the patches and write the scene cache."""
    start = time.perf_counter()
    settings = job.settings
    geobox, x, nan = inputs.geobox, inputs.x, inputs.nan
    transform, shape = geobox.affine, geobox.shape.yx
    geoms, footprint = _labels_in_scene_crs(job, geobox.crs)
    burned, outside, too_small = burn_labels(geoms, transform, shape, footprint)
    inside = geometry_mask(footprint, transform, shape)
    y = build_target(burned, inputs.quality, inside, nan, None, settings.mask_erosion_size)
    patches = make_patches(
        x,
        y,
        nan,
        transform,
        settings.patch_size,
        settings.overlap,
        settings.exclude_nopositive,
        settings.exclude_nan,
    )
    report = LabelBurnReport(
        matched=len(geoms),
        repaired=int(np.asarray(job.labels["repaired"], dtype=bool).sum()),
        outside_image=int(outside.sum()),
        too_small=int(too_small.sum()),
        burned=int((~outside & ~too_small).sum()),
        footprint_source="footprint file" if job.footprint is not None else "image extent",
        prefix_matched_ids=job.prefix_matched_ids,
    )
    outcome = SceneOutcome(
        scene_id=job.scene_id,
        status="done",
        crs=_crs_string(geobox.crs),
        region=job.region,
        shape=(int(shape[0]), int(shape[1])),
        n_patches=len(patches.x),
        n_candidates=patches.n_candidates,
        removed=patches.removed,
        labels=report.to_dict(),
        positive_pixels=int((y == 1).sum()),
        label_status=_label_status(job, outside, too_small),
    )
    outcome.seconds = round(inputs.seconds + time.perf_counter() - start, 3)
    meta = {
        "patch_row": patches.rows,
        "patch_col": patches.cols,
        "geotransform": patches.geotransforms,
        "positive_fraction": positive_fractions(patches.y),
    }
    cache = SceneCache(job.cache_root, job.cache_settings)
    stored = outcome.to_dict() | {"seconds": 0.0}
    cache.write(job.scene_id, patches.x, patches.y, meta, stored)
    return outcome


def ignore_spurious_rasterio_warnings() -> None:
    """Silence rasterio's NotGeoreferencedWarning about its own in-memory datasets.

    ``rasterize`` and ``reproject`` wrap arrays (given with an explicit transform) in GDAL MEM
    datasets and suppress this warning with ``warnings.catch_warnings``, which is not thread-safe:
    with scenes in threads it leaks. Only warnings raised from ``rasterio.features`` and
    ``rasterio.warp`` are silenced; opening a file without a geotransform still warns. Called per
    job (an identical filter replaces the earlier one), as callers may reset the filter list.
    """
    from rasterio.errors import NotGeoreferencedWarning

    warnings.filterwarnings("ignore", category=NotGeoreferencedWarning, module=r"rasterio\.(features|warp)$")


def skipped_outcome(scene_id: str, err: DartsError) -> SceneOutcome:
    """The report of a scene that a darts input error stopped."""
    return SceneOutcome(scene_id=scene_id, status="skipped", reason=f"{type(err).__name__}: {err}")


def run_scene_job(job: SceneJob) -> SceneOutcome:
    """Worker entry point: like :func:`process_scene`, but a darts input error skips the scene."""
    ignore_spurious_rasterio_warnings()
    try:
        return process_scene(job)
    except DartsError as err:
        return skipped_outcome(job.scene_id, err)
