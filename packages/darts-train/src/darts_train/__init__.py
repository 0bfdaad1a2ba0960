"""darts_train: train-smp, test-smp and convert-lightning-checkpoint over darts_dataset and darts_models."""

from __future__ import annotations

from typing import TYPE_CHECKING

from darts_core.lazy import lazy_attributes
from darts_train.config import ConvertConfig, TestConfig, TrainConfig
from darts_train.errors import CheckpointError, RunExistsError, RunNotFoundError
from darts_train.naming import RunIdentity, create_run_dir, generate_run_id, generate_run_name, run_dir_for

if TYPE_CHECKING:
    from darts_train.convert import convert_lightning_checkpoint
    from darts_train.evaluate import TestResult, test_smp
    from darts_train.train import TrainResult, train_smp

# torch and lightning load only when these are first used (PEP 562)
_LAZY: dict[str, str] = {
    "TestResult": "darts_train.evaluate",
    "TrainResult": "darts_train.train",
    "convert_lightning_checkpoint": "darts_train.convert",
    "test_smp": "darts_train.evaluate",
    "train_smp": "darts_train.train",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "CheckpointError",
    "ConvertConfig",
    "RunExistsError",
    "RunIdentity",
    "RunNotFoundError",
    "TestConfig",
    "TestResult",
    "TrainConfig",
    "TrainResult",
    "convert_lightning_checkpoint",
    "create_run_dir",
    "generate_run_id",
    "generate_run_name",
    "run_dir_for",
    "test_smp",
    "train_smp",
]
