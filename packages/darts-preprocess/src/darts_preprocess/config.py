"""Typed settings of ``preprocess-planet-train-data`` and ``preprocess-s2-train-data``.

Field names are the option names of docs/guide/preprocess.md (``patch_size`` is ``--patch-size``). Importing
this module is cheap: pydantic and the band registry only, no dask, torch or GDAL.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from darts_core.bands import BANDS, check_bands
from darts_core.renamed_keys import renamed_field, warn_renamed_keys

DEFAULT_BANDS: tuple[str, ...] = tuple(BANDS)
DEFAULT_CACHE_DIRNAME = ".cache"


class _PreprocessConfig(BaseModel):
    """Settings shared by both sensors."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    labels_dir: Path
    """Folder searched recursively for TrainingLabel*.gpkg and ImageFootprints*.gpkg."""
    train_data_dir: Path
    """Output folder: config.toml, cross-val.zarr, val-test.zarr, test.zarr, labels.geojson."""
    arcticdem_dir: Path | None = None
    """ArcticDEM datacube / GeoTIFF cache; needed for relative_elevation and slope."""
    tcvis_dir: Path | None = None
    """TCVIS datacube / GeoTIFF cache; needed for tc_brightness, tc_greenness, tc_wetness."""
    admin_dir: Path | None = None
    """Folder (or file) with admin boundaries (shapeName of ADM1/ADM2); needed for test_regions."""
    preprocess_cache: Path | None = None
    """Folder for per-scene patch caches (resume); default: a .cache folder inside train_data_dir,
    removed after a successful run."""
    bands: tuple[str, ...] = DEFAULT_BANDS
    """Bands, in channel order (any subset of the band registry): `red nir` or `red,nir`."""
    preprocess_device: str = renamed_field("preprocess_device", "device", "cpu")
    """Device for band engineering ('cpu', 'cuda', 'auto' or a GPU index); band engineering runs on
    the CPU today, so other values are accepted and logged. Formerly `device`."""
    dask_worker: int | None = Field(default=None, ge=1)
    """Number of local dask worker processes; default min(16, CPUs - 1), at least 1. 1 runs in-process."""
    dask_threads: int | None = Field(default=None, ge=1)
    """Scenes each worker processes at once (threads); default 2 when one worker runs on a machine with
    at least 2 CPUs (in-process), else 1. Each scene in flight holds its own memory. With
    dask_scheduler the workers' own thread count (`dask worker --nthreads`) applies instead."""
    dask_scheduler: str | None = None
    """Address of a running dask.distributed scheduler (e.g. tcp://host:8786); overrides dask_worker."""
    ee_project: str | None = None
    """Earth Engine project, used only when a local cache lacks data a scene needs."""
    ee_use_highvolume: bool = True
    """Use the Earth Engine high-volume endpoint."""
    offline: bool = False
    """Never contact a remote service (ArcticDEM STAC, Earth Engine): a local cache lacking an area
    skips the scene at once with the folder and the extent (also DARTS_OFFLINE=1)."""
    tpi_outer_radius: int = Field(default=100, ge=1)
    """Outer radius of the TPI (relative_elevation) annulus, metres."""
    tpi_inner_radius: int = Field(default=0, ge=0)
    """Inner radius of the TPI annulus, metres."""
    patch_size: int = Field(default=1024, ge=2)
    """Patch edge length, pixels."""
    overlap: int = Field(default=16, ge=0)
    """Overlap of neighbouring patches, pixels (must be smaller than patch_size)."""
    exclude_nopositive: bool = False
    """Drop patches without any RTS pixel."""
    exclude_nan: bool = True
    """Drop patches holding any no-data pixel inside the image."""
    mask_erosion_size: int = Field(default=10, ge=0)
    """Radius (pixels) of the disk by which the valid-data mask is eroded; eroded pixels get label 2."""
    test_val_split: float = Field(default=0.05, ge=0.0, le=1.0)
    """Fraction of the non-test scenes held out as val-test (chosen by a seeded hash of the scene id)."""
    test_regions: tuple[str, ...] = ()
    """Admin region names (exact shapeName, ADM1 or ADM2); scenes intersecting them go to test."""
    seed: int = 42
    """Seed of the val-test choice."""
    overwrite: bool = False
    """Rebuild a finished set, also with other settings: its scene cache is cleared and the old set is
    replaced once the new one is assembled (a killed run, rerun alike, resumes)."""

    @field_validator("bands", mode="before")
    @classmethod
    def _check_bands(cls, value: object) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple):
            raise ValueError(f"bands must be a list of band names, got {value!r}")
        # "red,nir" (one string, e.g. from DARTS_BANDS or `--bands red,nir`) and ["red", "nir"] alike
        parts = [part.strip() for v in value for part in str(v).split(",")]
        return check_bands([part for part in parts if part])

    @model_validator(mode="before")
    @classmethod
    def _renamed_keys(cls, data: object) -> object:
        warn_renamed_keys(cls, data)
        return data

    @model_validator(mode="after")
    def _check_geometry(self) -> _PreprocessConfig:
        if self.overlap >= self.patch_size:
            raise ValueError(f"overlap ({self.overlap}) must be smaller than patch_size ({self.patch_size})")
        if self.tpi_inner_radius >= self.tpi_outer_radius:
            raise ValueError(
                f"tpi_inner_radius ({self.tpi_inner_radius} m) must be smaller than "
                f"tpi_outer_radius ({self.tpi_outer_radius} m)"
            )
        return self

    @property
    def n_workers(self) -> int:
        """Resolved number of local workers."""
        if self.dask_worker is not None:
            return self.dask_worker
        return max(1, min(16, (os.cpu_count() or 2) - 1))

    @property
    def n_threads(self) -> int:
        """Resolved number of scenes each worker processes at once."""
        if self.dask_threads is not None:
            return self.dask_threads
        return 2 if self.n_workers == 1 and (os.cpu_count() or 1) >= 2 else 1

    @property
    def cache_root(self) -> Path:
        """Folder holding the per-scene patch caches."""
        if self.preprocess_cache is not None:
            return self.preprocess_cache
        return self.train_data_dir / DEFAULT_CACHE_DIRNAME


class PlanetPreprocessConfig(_PreprocessConfig):
    """Settings of ``preprocess-planet-train-data``."""

    data_dir: Path
    """Folder searched recursively for PSScene / PSOrthoTile scene folders."""


class S2PreprocessConfig(_PreprocessConfig):
    """Settings of ``preprocess-s2-train-data``."""

    sentinel2_dir: Path
    """Folder of Sentinel-2 samples (one folder per sample) or the local cache Earth Engine fills."""
    labels_dir: Path | None = None  # type: ignore[assignment]
    """Folder of TrainingLabel*.gpkg / ImageFootprints*.gpkg; optional when every sample folder holds
    its own labels file (<scene id>.gpkg / .shp). Footprints match scenes by overlap and date."""
    s2_scene_ids: tuple[str, ...] = ()
    """Sentinel-2 L2A scene ids as Earth Engine names them (``system:index``, e.g.
    20200814T053649_20200814T053643_T45XVC) to fetch into sentinel2_dir when it lacks them
    (`id1 id2` or `id1,id2`); samples already there are reused, never downloaded again."""
    s2_date_window_days: int | None = Field(default=None, ge=0)
    """With ee_project and labels_dir: search Earth Engine for scenes overlapping each footprint within
    this many days of its date and fetch the missing ones; also the footprint-to-scene matching window
    (unset: no search, matching within 30 days)."""
    s2_max_cloud_percent: float = Field(default=50.0, ge=0.0, le=100.0)
    """Largest scene cloud cover (CLOUDY_PIXEL_PERCENTAGE, %) the footprint search accepts."""

    @field_validator("s2_scene_ids", mode="before")
    @classmethod
    def _split_scene_ids(cls, value: object) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple):
            raise ValueError(f"s2_scene_ids must be a list of Sentinel-2 product ids, got {value!r}")
        parts = [part.strip() for v in value for part in str(v).split(",")]
        return tuple(dict.fromkeys(part for part in parts if part))


PreprocessConfig = PlanetPreprocessConfig | S2PreprocessConfig
