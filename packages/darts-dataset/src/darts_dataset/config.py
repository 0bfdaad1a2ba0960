"""Typed settings of the training data module (no lightning import here)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from darts_dataset.augment import AugmentConfig
from darts_dataset.nextgen_options import NextgenSetOptions


class DataModuleConfig(NextgenSetOptions):
    """How training reads a training set: fold, batches, workers, augmentation, bands."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    train_data_dir: Path
    """Training set folder (config.toml + cross-val.zarr, val-test.zarr, test.zarr; or a
    darts-nextgen set: config.toml + data.zarr + metadata.parquet)."""
    batch_size: int = Field(8, ge=1)
    """Patches per batch."""
    num_workers: int = Field(0, ge=0)
    """DataLoader worker processes; 0 reads in the main process (pinned memory and persistent
    workers are used only when > 0)."""
    fold: int = Field(0, ge=0)
    """Cross-val fold used for validation; the other folds train."""
    n_folds: int = Field(5, ge=2)
    """Number of cross-val folds (scene-grouped, at most the number of cross-val scenes)."""
    final_retrain: bool = False
    """Train on all of cross-val with no validation fold (the final model)."""
    augment: AugmentConfig | None = Field(default_factory=AugmentConfig)
    """Training augmentation; None or false turns it off, true = the defaults (the reference's
    boolean `augment`). Validation and test are never augmented."""
    seed: int = 42
    """Seeds folds, shuffling and augmentation."""
    bands: tuple[str, ...] | None = None
    """Band names to feed the model, in this order; None = all bands of the set, in set order."""
    in_memory: bool = False
    """Load the selected patches into RAM once instead of streaming them from zarr."""
    multiprocessing_context: Literal["fork", "spawn", "forkserver"] | None = None
    """Start method of DataLoader workers; None = the platform default."""
    sampling: Literal["shuffle", "balanced"] = "shuffle"
    """How training patches are drawn each epoch: shuffle = every patch once, in a seeded random
    order; balanced = ``samples_per_epoch`` seeded draws, ``positive_ratio`` of them patches with RTS."""
    positive_ratio: float = Field(0.5, gt=0, lt=1)
    """Share of patches with RTS among the draws of balanced sampling."""
    samples_per_epoch: int | None = Field(None, ge=1)
    """Draws per epoch of balanced sampling; None = the number of training patches."""

    @field_validator("augment", mode="before")
    @classmethod
    def _augment_from_bool(cls, value: object) -> object:
        if isinstance(value, bool):
            return AugmentConfig() if value else None
        return value

    @model_validator(mode="after")
    def _fold_in_range(self) -> DataModuleConfig:
        if not self.final_retrain and self.fold >= self.n_folds:
            raise ValueError(f"fold={self.fold} must be below n_folds={self.n_folds}")
        return self


class ValidateConfig(NextgenSetOptions):
    """What ``darts validate-train-data`` checks."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    train_data_dir: Path
    """Training set folder to check (config.toml + cross-val.zarr, val-test.zarr, test.zarr; or a
    darts-nextgen set: config.toml + data.zarr + metadata.parquet)."""
    n_folds: int = Field(5, ge=2)
    """Number of cross-val folds whose per-fold counts are reported (as training would make them)."""
    seed: int = 42
    """Seed of the fold assignment (as training would use it)."""
