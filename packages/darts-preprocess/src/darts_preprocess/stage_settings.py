"""The settings each stage of a preprocessing run uses, narrowed from the whole config.

:func:`stage_settings` is the only place that reads a :class:`~darts_preprocess.config.PlanetPreprocessConfig`
/ :class:`~darts_preprocess.config.S2PreprocessConfig` for the stages: every stage gets its own small
frozen dataclass and never sees the config object.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from darts_core.recorded_paths import record_path
from darts_preprocess.config import PlanetPreprocessConfig, S2PreprocessConfig
from darts_preprocess.jobs.run_jobs import RunSettings
from darts_preprocess.jobs.scene_job import SceneSettings
from darts_preprocess.labels.matching import LabelSettings
from darts_preprocess.scenes.s2_remote import S2FillSettings
from darts_preprocess.trainset.assemble import WriteSettings
from darts_preprocess.trainset.report import SetRecord
from darts_preprocess.trainset.splits import SplitSettings

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
NOT_RECORDED = frozenset({"overwrite"})
"""Options not written to config.toml (feeding the file back must not delete a set)."""


@dataclass(frozen=True)
class StageSettings:
    """The narrowed settings of every stage of one run."""

    labels: LabelSettings
    scene: SceneSettings
    run: RunSettings
    splits: SplitSettings
    write: WriteSettings
    record: SetRecord
    cache_root: Path
    keep_cache: bool
    """False: the cache is the default one inside train-data-dir, removed after a successful run."""
    overwrite: bool


def option_record(config: Config) -> dict[str, Any]:
    """Every option (except ``overwrite``) as TOML-friendly values (None dropped).

    Paths are recorded as the training set's ``config.toml`` holds them: relative to
    ``train_data_dir`` when they lie below it (``train_data_dir`` itself is ``"."``), else absolute.
    """
    out: dict[str, Any] = {}
    for key, value in config.model_dump().items():
        if key in NOT_RECORDED or value is None:
            continue
        if isinstance(value, Path):
            value = record_path(value, config.train_data_dir)
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out


def set_record(config: Config) -> SetRecord:
    """What config.toml records of ``config``, and which of it must match an existing set."""
    options = option_record(config)
    return SetRecord(
        train_data_dir=config.train_data_dir,
        bands=config.bands,
        options=options,
        compared=frozenset(k for k in options if k not in RUNTIME_OPTIONS),
        fields=frozenset(set(type(config).model_fields) - RUNTIME_OPTIONS),
        path_keys=frozenset(k for k in options if isinstance(getattr(config, k), Path)),
    )


def scene_settings(config: Config, sensor: str) -> SceneSettings:
    """What every scene job needs (its record is part of the scene cache fingerprint)."""
    return SceneSettings(
        sensor=sensor,
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


def stage_settings(config: Config, sensor: str) -> StageSettings:
    """Split ``config`` into the settings of each stage."""
    return StageSettings(
        labels=LabelSettings(
            labels_dir=config.labels_dir,
            window_days=getattr(config, "s2_date_window_days", None),
        ),
        scene=scene_settings(config, sensor),
        run=RunSettings(
            n_workers=config.n_workers, n_threads=config.n_threads, dask_scheduler=config.dask_scheduler
        ),
        splits=SplitSettings(
            test_val_split=config.test_val_split,
            seed=config.seed,
            test_regions=config.test_regions,
            admin_dir=config.admin_dir,
        ),
        write=WriteSettings(
            train_data_dir=config.train_data_dir,
            bands=config.bands,
            patch_size=config.patch_size,
            link_chunks=config.preprocess_cache is None,
        ),
        record=set_record(config),
        cache_root=config.cache_root,
        keep_cache=config.preprocess_cache is not None,
        overwrite=config.overwrite,
    )


def s2_fill_settings(config: S2PreprocessConfig) -> S2FillSettings:
    """What filling sentinel2-dir from Earth Engine needs."""
    return S2FillSettings(
        sentinel2_dir=config.sentinel2_dir,
        labels_dir=config.labels_dir,
        s2_scene_ids=config.s2_scene_ids,
        s2_date_window_days=config.s2_date_window_days,
        s2_max_cloud_percent=config.s2_max_cloud_percent,
        ee_project=config.ee_project,
        ee_use_highvolume=config.ee_use_highvolume,
        offline=config.offline,
    )
