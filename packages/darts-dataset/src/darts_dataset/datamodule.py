"""The LightningDataModule of training: folds of cross-val, plus val-test and test for evaluation.

Imported lazily by ``darts_dataset`` (PEP 562), so that importing the package never loads lightning.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader

from darts_core.labels import LABEL_RTS
from darts_dataset.config import DataModuleConfig
from darts_dataset.folds import fold_indices, folds_to_dict, make_folds, write_folds_json
from darts_dataset.nextgen_options import nextgen_options_of
from darts_dataset.patch_dataset import InMemoryPatchDataset, PatchDataset, select_bands
from darts_dataset.samplers import BalancedSampler, EpochShuffleSampler, RankShard
from darts_dataset.training_set import SplitMetadata, TrainingSet

logger = logging.getLogger(__name__)

CROSS_VAL, VAL_TEST, TEST = "cross-val", "val-test", "test"


class DartsDataModule(L.LightningDataModule):
    """Train/validation loaders over one fold of cross-val; val-test and test loaders for evaluation."""

    def __init__(self, config: DataModuleConfig) -> None:
        super().__init__()
        self.config = config
        self.set_options = nextgen_options_of(config)
        self.training_set = TrainingSet(config.train_data_dir, self.set_options)
        channels = select_bands(self.training_set.bands, config.bands)
        self.bands: tuple[str, ...] = tuple(self.training_set.bands[i] for i in channels)
        self.folds: np.ndarray | None = None
        self.train_dataset: PatchDataset | InMemoryPatchDataset | None = None
        self.val_dataset: PatchDataset | InMemoryPatchDataset | None = None

    @property
    def in_channels(self) -> int:
        return len(self.bands)

    @property
    def norm_factors(self) -> dict[str, float]:
        """Factors of the selected bands, in model channel order (for the deployable checkpoint)."""
        factors = self.training_set.norm_factors
        return {b: factors[b] for b in self.bands}

    @property
    def has_validation(self) -> bool:
        return not self.config.final_retrain

    @property
    def cross_val_metadata(self) -> SplitMetadata:
        return self.training_set.split_metadata(CROSS_VAL)

    def _dataset(
        self, split: str, indices: np.ndarray | None, augment: bool
    ) -> PatchDataset | InMemoryPatchDataset:
        cls = InMemoryPatchDataset if self.config.in_memory else PatchDataset
        return cls(
            self.config.train_data_dir,
            split,
            bands=self.bands,
            indices=indices,
            augment=self.config.augment if augment else None,
            seed=self.config.seed,
            set_options=self.set_options,
        )

    def setup(self, stage: str | None = None) -> None:
        """Make the folds and the train/validation datasets (once; later calls are no-ops)."""
        if stage not in (None, "fit", "validate") or self.train_dataset is not None:
            return
        cfg = self.config
        metadata = self.cross_val_metadata
        if cfg.final_retrain:
            train_idx, val_idx = np.arange(metadata.n), None
        else:
            self.folds = make_folds(metadata, cfg.n_folds, cfg.seed)
            train_idx, val_idx = fold_indices(self.folds, cfg.fold)
        self.train_dataset = self._dataset(CROSS_VAL, train_idx, augment=True)
        self.val_dataset = None if val_idx is None else self._dataset(CROSS_VAL, val_idx, augment=False)
        logger.info(
            "fold %s of %d: %d training, %d validation patches",
            "none (final retrain)" if cfg.final_retrain else cfg.fold,
            cfg.n_folds,
            len(self.train_dataset),
            0 if self.val_dataset is None else len(self.val_dataset),
        )

    def fold_assignment(self) -> dict[str, Any] | None:
        """JSON-ready fold assignment of cross-val (None in final-retrain mode)."""
        self.setup("fit")
        if self.folds is None:
            return None
        return folds_to_dict(self.cross_val_metadata, self.folds, self.config.n_folds, self.config.seed)

    def write_fold_assignment(self, path: Path | str) -> Path | None:
        """Write the fold assignment as JSON (atomically); None in final-retrain mode."""
        self.setup("fit")
        if self.folds is None:
            return None
        return write_folds_json(
            path, self.cross_val_metadata, self.folds, self.config.n_folds, self.config.seed
        )

    def _train_sampler(self, dataset: PatchDataset | InMemoryPatchDataset) -> EpochShuffleSampler:
        cfg = self.config
        if cfg.sampling == "shuffle":
            return EpochShuffleSampler(len(dataset), cfg.seed, dataset.set_epoch)
        sampler = BalancedSampler(
            self._positive(dataset),
            cfg.positive_ratio,
            cfg.samples_per_epoch or len(dataset),
            cfg.seed,
            dataset.set_epoch,
        )
        logger.info(
            "balanced sampling: %d draws per epoch, %d of them from %d patches with RTS (of %d)",
            len(sampler),
            sampler.n_positive,
            len(sampler.positives),
            len(dataset),
        )
        return sampler

    def _positive(self, dataset: PatchDataset | InMemoryPatchDataset) -> np.ndarray:
        """Per position of ``dataset``: does the patch hold any RTS pixel (from the set's metadata, or
        from its labels for sets that record no positive fractions)."""
        fraction = self.cross_val_metadata.positive_fraction
        if fraction is not None:
            return np.asarray(fraction)[dataset.indices] > 0
        data = self.training_set.split_data(CROSS_VAL)
        rows = dataset.indices if data.rows is None else data.rows[dataset.indices]
        return np.array([bool((np.asarray(data.y[int(i)]) == LABEL_RTS).any()) for i in rows])

    def _loader(self, dataset: Any, shuffle: bool) -> DataLoader:
        cfg = self.config
        workers = cfg.num_workers
        sampler: EpochShuffleSampler | RankShard | None = self._train_sampler(dataset) if shuffle else None
        rank, world_size = _rank_and_world_size()
        if world_size > 1:  # several processes (DDP): each reads its share, see RankShard
            inner = sampler if isinstance(sampler, EpochShuffleSampler) else None
            sampler = RankShard(inner, len(dataset), rank, world_size, pad=shuffle)
        n_items = len(sampler) if sampler is not None else len(dataset)
        # a last batch of one patch breaks BatchNorm in training; drop only that case
        drop_last = shuffle and n_items > cfg.batch_size and n_items % cfg.batch_size == 1
        return DataLoader(
            dataset,
            batch_size=cfg.batch_size,
            sampler=sampler,
            num_workers=workers,
            pin_memory=workers > 0 and torch.cuda.is_available(),
            persistent_workers=workers > 0,
            multiprocessing_context=cfg.multiprocessing_context if workers > 0 else None,
            drop_last=drop_last,
        )

    def train_dataloader(self) -> DataLoader:
        self.setup("fit")
        return self._loader(self.train_dataset, shuffle=True)

    def val_dataloader(self) -> DataLoader | list[DataLoader]:
        """The validation fold; an empty list in final-retrain mode.

        In that mode run the Trainer with ``limit_val_batches=0``: Lightning then never asks for
        this loader (an empty list works too, but Lightning warns about it).
        """
        self.setup("fit")
        return [] if self.val_dataset is None else self._loader(self.val_dataset, shuffle=False)

    def split_dataloader(self, split: str) -> DataLoader:
        """An unshuffled, unaugmented loader over a whole split (for evaluation)."""
        return self._loader(self._dataset(split, None, augment=False), shuffle=False)

    def val_test_dataloader(self) -> DataLoader:
        return self.split_dataloader(VAL_TEST)

    def test_dataloader(self) -> DataLoader:
        """The ``test`` split (region hold-out); see :meth:`val_test_dataloader` for val-test."""
        return self.split_dataloader(TEST)


def _rank_and_world_size() -> tuple[int, int]:
    """This process's rank and the number of processes of the running DDP group ((0, 1) without one)."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1
