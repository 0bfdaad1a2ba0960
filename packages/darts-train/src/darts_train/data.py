"""The bridge to darts_dataset: the data module of a run, its fold file and the samples to plot."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from darts_train.config import TrainConfig

if TYPE_CHECKING:
    from darts_dataset import DartsDataModule

FOLDS_FILE = "folds.json"
N_VAL_PLOTS = 4


def build_datamodule(config: TrainConfig, bands: Sequence[str]) -> DartsDataModule:
    """The data module of a run: fold ``config.fold`` of ``n_folds`` (seeded by the run's seed)."""
    from darts_dataset import AugmentConfig, DartsDataModule, DataModuleConfig
    from darts_dataset.nextgen_options import nextgen_options_of

    return DartsDataModule(
        DataModuleConfig(
            train_data_dir=config.train_data_dir,
            batch_size=config.batch_size,
            num_workers=config.num_workers,
            fold=config.fold,
            n_folds=config.n_folds,
            final_retrain=config.final_retrain,
            augment=AugmentConfig() if config.augment else None,
            seed=config.random_seed,
            bands=tuple(bands),
            sampling=config.sampling,
            positive_ratio=config.positive_ratio,
            samples_per_epoch=config.samples_per_epoch,
            **nextgen_options_of(config).model_dump(),
        )
    )


def choose_samples(positive_fraction: np.ndarray | None, n: int, k: int) -> list[int]:
    """Up to ``k`` of ``n`` positions to plot: half the most positive ones, the rest evenly spread."""
    if k <= 0 or n == 0:
        return []
    k = min(k, n)
    chosen: list[int] = []
    if positive_fraction is not None:
        order = np.argsort(-np.asarray(positive_fraction), kind="stable")
        chosen = [int(i) for i in order[: (k + 1) // 2] if positive_fraction[i] > 0]
    for i in np.linspace(0, n - 1, num=k).round().astype(int):
        if len(chosen) >= k:
            break
        if int(i) not in chosen:
            chosen.append(int(i))
    rest = (i for i in range(n) if i not in chosen)
    while len(chosen) < k:
        chosen.append(next(rest))
    return sorted(chosen)


def plot_indices(datamodule: DartsDataModule, k: int = N_VAL_PLOTS) -> list[int]:
    """Positions in the validation dataset whose predictions are plotted during training."""
    datamodule.setup("fit")
    dataset = datamodule.val_dataset
    if dataset is None:
        return []
    metadata = datamodule.cross_val_metadata
    fraction = metadata.positive_fraction[dataset.indices] if metadata.positive_fraction is not None else None
    return choose_samples(fraction, len(dataset), k)


def write_fold_assignment(datamodule: DartsDataModule, path: Path) -> Path | None:
    """Write which cross-val patch sits in which fold (``folds.json`` in the run folder)."""
    return datamodule.write_fold_assignment(path)
