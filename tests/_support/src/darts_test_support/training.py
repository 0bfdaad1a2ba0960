"""Training options of seconds-long CPU runs on the tiny training set."""

from __future__ import annotations

from pathlib import Path


def tiny_train_options(train_data_dir: Path, artifact_dir: Path, **overrides: object) -> dict[str, object]:
    """TrainConfig fields of a seconds-long CPU run on a tiny set (resnet18, no pretrained weights)."""
    options: dict[str, object] = {
        "train_data_dir": train_data_dir,
        "artifact_dir": artifact_dir,
        "model_arch": "Unet",
        "model_encoder": "resnet18",
        "model_encoder_weights": None,
        "n_folds": 2,
        "batch_size": 3,
        "max_epochs": 2,
        "check_val_every_n_epoch": 1,
        "log_every_n_steps": 1,
        "plot_every_n_val_epochs": 1,
        "accelerator": "cpu",
        "devices": "cpu",
    }
    options.update(overrides)
    return options
