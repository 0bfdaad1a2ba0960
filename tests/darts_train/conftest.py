"""Fixtures of the darts_train tests: a tiny training set and a tiny, fast training config."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from .trainset import write_tiny_training_set


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_train_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_training_set(tmp_path_factory.mktemp("trainset") / "train_data")


def tiny_options(train_data_dir: Path, artifact_dir: Path, **overrides: object) -> dict[str, object]:
    """TrainConfig fields for a seconds-long CPU run."""
    options: dict[str, object] = {
        "train_data_dir": train_data_dir,
        "artifact_dir": artifact_dir,
        "model_arch": "Unet",
        "model_encoder": "resnet18",
        "model_encoder_weights": None,
        "n_folds": 2,
        "batch_size": 4,
        "max_epochs": 2,
        "check_val_every_n_epoch": 1,
        "log_every_n_steps": 1,
        "plot_every_n_val_epochs": 1,
        "accelerator": "cpu",
        "devices": "cpu",
    }
    options.update(overrides)
    return options
