"""darts_dataset: read darts training sets, make scene-grouped folds, augment, and feed Lightning."""

from __future__ import annotations

from typing import TYPE_CHECKING

from darts_core.lazy import lazy_attributes
from darts_dataset.augment import AugmentConfig, Augmenter
from darts_dataset.config import DataModuleConfig, ValidateConfig
from darts_dataset.errors import BandSelectionError, FoldError, SamplingError
from darts_dataset.folds import (
    fold_indices,
    folds_from_json,
    folds_to_dict,
    folds_to_json,
    make_folds,
    write_folds_json,
)
from darts_dataset.training_set import SplitMetadata, TrainingSet
from darts_dataset.validate import Counts, ValidationReport, validate_train_data

if TYPE_CHECKING:
    from darts_dataset.datamodule import DartsDataModule
    from darts_dataset.patch_dataset import InMemoryPatchDataset, PatchDataset
    from darts_dataset.samplers import BalancedSampler, EpochShuffleSampler

# torch and lightning load only when these are first used (PEP 562)
_LAZY: dict[str, str] = {
    "BalancedSampler": "darts_dataset.samplers",
    "EpochShuffleSampler": "darts_dataset.samplers",
    "DartsDataModule": "darts_dataset.datamodule",
    "InMemoryPatchDataset": "darts_dataset.patch_dataset",
    "PatchDataset": "darts_dataset.patch_dataset",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "AugmentConfig",
    "Augmenter",
    "BalancedSampler",
    "BandSelectionError",
    "Counts",
    "DartsDataModule",
    "DataModuleConfig",
    "EpochShuffleSampler",
    "FoldError",
    "InMemoryPatchDataset",
    "PatchDataset",
    "SamplingError",
    "SplitMetadata",
    "TrainingSet",
    "ValidateConfig",
    "ValidationReport",
    "fold_indices",
    "folds_from_json",
    "folds_to_dict",
    "folds_to_json",
    "make_folds",
    "validate_train_data",
    "write_folds_json",
]
