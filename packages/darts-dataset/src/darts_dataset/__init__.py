"""darts_dataset: read darts training sets, make scene-grouped folds, augment, and feed Lightning."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from darts_dataset.nextgen_options import NextgenSetOptions
from darts_dataset.training_set import Layout, SplitMetadata, TrainingSet, detect_layout
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


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'darts_dataset' has no attribute {name!r}")


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
    "Layout",
    "NextgenSetOptions",
    "PatchDataset",
    "SamplingError",
    "SplitMetadata",
    "TrainingSet",
    "ValidateConfig",
    "ValidationReport",
    "detect_layout",
    "fold_indices",
    "folds_from_json",
    "folds_to_dict",
    "folds_to_json",
    "make_folds",
    "validate_train_data",
    "write_folds_json",
]
