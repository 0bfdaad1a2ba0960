"""The default training function of a sweep run: darts_train.train_smp on a TrainConfig.

Importing this module imports torch, lightning and darts_train; the runner's forkserver preloads
it once, so each run's process starts without importing them again.
"""

from __future__ import annotations

from typing import Any

import lightning  # noqa: F401  (preloaded in the forkserver)
import torch  # noqa: F401  (preloaded in the forkserver)

from darts_train import TrainConfig, train_smp


def train_smp_from_options(options: dict[str, Any]) -> Any:
    """Build the run's TrainConfig from its options and train (runs in the run's own process)."""
    return train_smp(TrainConfig(**options))
