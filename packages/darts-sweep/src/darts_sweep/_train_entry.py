"""The default training function of a sweep run: darts_train.train_smp on a TrainConfig.

Importing this module imports darts_train's training module (and with it torch and lightning); the
runner's forkserver preloads it once, so each run's process starts without importing them again.
"""

from __future__ import annotations

from typing import Any

from darts_train import TrainConfig, train_smp  # train_smp resolves darts_train.train: torch, lightning


def train_smp_from_options(options: dict[str, Any]) -> Any:
    """Build the run's TrainConfig from its options and train (runs in the run's own process)."""
    return train_smp(TrainConfig(**options))
