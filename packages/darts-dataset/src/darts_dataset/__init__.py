"""darts_dataset: read darts training sets, make scene-grouped folds, augment, and feed Lightning.

Quick example::

    import tempfile

    import numpy as np
    from darts_core.trainset_layout import PatchBatch, SceneInfo, SplitWriter, write_training_set_config
    from darts_dataset import TrainingSet

    root = tempfile.mkdtemp()
    writer = SplitWriter(root, "cross-val", ["red", "nir"], patch_size=16)
    for i in range(4):
        x = np.random.default_rng(i).random((2, 2, 16, 16), dtype=np.float32)
        y = np.zeros((2, 16, 16), dtype=np.uint8)
        rows = cols = np.zeros(2, dtype=np.int32)
        scene = SceneInfo(f"s{i}", "Alaska", "EPSG:3413")
        writer.append(PatchBatch(scene, x, y, rows, cols, np.zeros((2, 6))))
    writer.finish()
    write_training_set_config(root, {"bands": ["red", "nir"], "patch_size": 16})
    ts = TrainingSet(root)
    assert ts.bands == ("red", "nir") and ts.n_patches("cross-val") == 8
"""

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
