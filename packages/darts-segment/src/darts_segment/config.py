"""Typed settings of ``segment-planet-scenes`` and ``segment-s2-scenes``.

Importing this module is cheap (pydantic only): the CLI imports it to build its options.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from darts_core.renamed_keys import renamed_field, warn_renamed_keys

Tta = Literal["none", "flips"]
Runtime = Literal["torch", "onnx"]


def _split_words(value: object, what: str) -> tuple[str, ...]:
    if isinstance(value, str | Path):
        value = [value]
    if not isinstance(value, list | tuple):
        raise ValueError(f"{what} must be a list, got {value!r}")
    parts = [part.strip() for v in value for part in str(v).split(",")]
    return tuple(dict.fromkeys(part for part in parts if part))


class _SegmentConfig(BaseModel):
    """Settings shared by both sensors."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    model_file: tuple[Path, ...] = Field(min_length=1)
    """Model file(s): deployable files from convert-lightning-checkpoint (or Lightning checkpoints of
    train-smp; ONNX files with runtime onnx). Several files form an ensemble (mean probability)."""
    output_dir: Path
    """Output folder; each scene gets output_dir/<scene id>/ with probabilities.tif, binarized.tif,
    polygons.gpkg, extent.gpkg and run.json (written last: a folder without it is unfinished)."""
    scene_ids: tuple[str, ...] = ()
    """Segment only these scene ids (`id1 id2` or `id1,id2`); default: every scene found."""
    arcticdem_dir: Path | None = None
    """ArcticDEM cache; needed when the model uses relative_elevation or slope."""
    tcvis_dir: Path | None = None
    """TCVIS cache; needed when the model uses tc_brightness, tc_greenness or tc_wetness."""
    offline: bool = False
    """Never download ArcticDEM / TCVIS: a scene the caches do not cover is skipped with the reason."""
    ee_project: str | None = None
    """Earth Engine project, used only when the TCVIS cache lacks a scene's area."""
    ee_use_highvolume: bool = True
    """Use the Earth Engine high-volume endpoint."""
    tpi_outer_radius: int = Field(default=100, ge=1)
    """Outer radius of the TPI (relative_elevation) annulus, metres (use the training set's value)."""
    tpi_inner_radius: int = Field(default=0, ge=0)
    """Inner radius of the TPI annulus, metres (use the training set's value)."""
    patch_size: int | None = Field(default=None, ge=8)
    """Patch edge length, pixels; default: the model's training patch size, else 1024."""
    overlap: int | None = Field(default=None, ge=0)
    """Overlap of neighbouring patches, pixels (blended smoothly); default: a quarter of the patch
    size, at most 64. Must be less than half the patch size."""
    batch_size: int = Field(default=8, ge=1)
    """Patches per forward pass."""
    threshold: float = Field(default=0.5, gt=0.0, lt=1.0)
    """Probability at or above which a pixel is RTS in binarized.tif and polygons.gpkg."""
    min_area_m2: float = Field(default=0.0, ge=0.0)
    """Drop polygons smaller than this area (m²)."""
    segment_device: str = renamed_field("segment_device", "device", "auto")
    """'auto' (first GPU, else CPU), 'cpu', a GPU index or 'cuda:N' (key segment-device; the option
    --device works too)."""
    precision: str = "auto"
    """'auto' (bf16 on GPUs that support it and on CPUs with native bf16, else fp32), 'fp32' or
    'bf16'. Training's values are accepted too (a shared config file): '32' / '32-true' mean fp32,
    'bf16-mixed' / 'bf16-true' bf16."""
    tta: Tta = "none"
    """Test-time augmentation: 'none' or 'flips' (mean over the identity and the flips along x, y
    and both axes)."""
    runtime: Runtime = "torch"
    """'torch' or 'onnx' (exported ONNX files; needs the onnxruntime extra of darts-models)."""
    overwrite: bool = False
    """Segment scenes again that already have a finished output folder (default: skip them)."""
    strict: bool = False
    """Exit non-zero when any scene fails (default: only when every scene fails)."""
    dask_worker: int | None = Field(default=None, ge=1)
    """Number of local dask worker processes (each loads the models once); default 1: scenes run in
    threads of this process."""
    dask_threads: int | None = Field(default=None, ge=1)
    """Scenes each worker segments at once (threads sharing its models); default 1."""
    dask_scheduler: str | None = None
    """Address of a running dask.distributed scheduler (e.g. tcp://host:8786); overrides dask_worker.
    The workers must see the same file system (inputs, models, output_dir)."""

    @field_validator("scene_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> tuple[str, ...]:
        return _split_words(value, "scene_ids")

    @field_validator("model_file", mode="before")
    @classmethod
    def _split_models(cls, value: object) -> tuple[str, ...]:
        return _split_words(value, "model_file")

    @field_validator("precision", mode="before")
    @classmethod
    def _precision(cls, value: object) -> str:
        aliases = {"32": "fp32", "32-true": "fp32", "bf16-mixed": "bf16", "bf16-true": "bf16"}
        text = aliases.get(str(value), str(value))
        if text not in ("auto", "fp32", "bf16"):
            raise ValueError(
                f"precision must be 'auto', 'fp32' or 'bf16' (or '32', 'bf16-mixed'), got {value!r}"
            )
        return text

    @model_validator(mode="before")
    @classmethod
    def _renamed_keys(cls, data: object) -> object:
        warn_renamed_keys(cls, data)
        return data

    @model_validator(mode="after")
    def _check(self) -> _SegmentConfig:
        if self.tpi_inner_radius >= self.tpi_outer_radius:
            raise ValueError(
                f"tpi_inner_radius ({self.tpi_inner_radius} m) must be smaller than "
                f"tpi_outer_radius ({self.tpi_outer_radius} m)"
            )
        if self.patch_size is not None and self.overlap is not None and 2 * self.overlap >= self.patch_size:
            raise ValueError(
                f"overlap ({self.overlap}) must be less than half the patch size ({self.patch_size})"
            )
        return self

    @property
    def n_workers(self) -> int:
        """Resolved number of local workers (1: in this process)."""
        return self.dask_worker or 1

    @property
    def n_threads(self) -> int:
        """Resolved number of scenes each worker segments at once."""
        return self.dask_threads or 1

    @property
    def in_process(self) -> bool:
        """True when the scenes run in threads of this process."""
        return self.dask_scheduler is None and self.n_workers <= 1

    def resolved_overlap(self, patch_size: int) -> int:
        """The overlap for ``patch_size``: the given one, else a quarter of it, at most 64."""
        return self.overlap if self.overlap is not None else min(64, patch_size // 4)


class SegmentPlanetConfig(_SegmentConfig):
    """Settings of ``segment-planet-scenes``."""

    data_dir: Path
    """Folder searched recursively for PSScene / PSOrthoTile scene folders."""


class SegmentS2Config(_SegmentConfig):
    """Settings of ``segment-s2-scenes``."""

    sentinel2_dir: Path
    """Folder of Sentinel-2 samples (one folder per sample, or <scene id>.nc files)."""


SegmentConfig = SegmentPlanetConfig | SegmentS2Config
