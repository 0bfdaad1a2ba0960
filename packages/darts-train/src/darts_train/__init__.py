"""darts_train: train-smp, test-smp and convert-lightning-checkpoint over darts_dataset and darts_models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'darts_train' has no attribute {name!r}")


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
