"""Which training options a sweep may set, and which the sweep sets itself for each run."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

RUN_MANAGED_OPTIONS: frozenset[str] = frozenset(
    {
        "train_data_dir",
        "artifact_dir",
        "fold",
        "n_folds",
        "random_seed",
        "run_name",
        "run_id",
        "trial_name",
        "wandb_group",
        "continue_from_checkpoint",
        "final_retrain",
        "accelerator",
        "devices",
        "num_nodes",
    }
)
"""Options the sweep sets for every run (data, fold, seed, names, device); a sweep file cannot."""

_FALLBACK_TRAINING_OPTIONS: frozenset[str] = frozenset(
    {
        "model_arch",
        "model_encoder",
        "model_encoder_weights",
        "augment",
        "learning_rate",
        "gamma",
        "focal_loss_alpha",
        "focal_loss_gamma",
        "sampling",
        "positive_ratio",
        "samples_per_epoch",
        "batch_size",
        "max_epochs",
        "log_every_n_steps",
        "check_val_every_n_epoch",
        "early_stopping_patience",
        "plot_every_n_val_epochs",
        "checkpoint_every_n_minutes",
        "num_workers",
        "precision",
        "wandb_entity",
        "wandb_project",
        "bands",
    }
)


def training_option_names() -> frozenset[str]:
    """Fields of ``darts_train.TrainConfig`` (a built-in list if darts_train is not importable)."""
    try:
        from darts_train.config import TrainConfig
    except ImportError:  # pragma: no cover - darts_train is a dependency; the list keeps parsing usable
        logger.debug("darts_train not importable; using the built-in list of training options")
        return _FALLBACK_TRAINING_OPTIONS | RUN_MANAGED_OPTIONS
    return frozenset(TrainConfig.model_fields)
