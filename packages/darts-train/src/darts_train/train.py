"""``train_smp``: one training run, returning where its artifacts are and how it scored."""

from __future__ import annotations

import json
import logging
import os
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint, RichProgressBar

from darts_models.metric_keys import VAL_MONITOR_KEY
from darts_preprocess.recorded_paths import record_path
from darts_train.callbacks import FinalValidation, ValidationPlots
from darts_train.config import TrainConfig
from darts_train.data import FOLDS_FILE, build_datamodule, plot_indices, write_fold_assignment
from darts_train.errors import CheckpointError
from darts_train.hardware import TrainerDevices, resolve_trainer_devices
from darts_train.loggers import build_loggers
from darts_train.module import PROVENANCE_KEY, SegmentationTask
from darts_train.naming import RunIdentity, create_run_dir, run_dir_for
from darts_train.provenance import dataset_fingerprint, git_commit, library_versions

log = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoints"
RUN_FILE = "run.json"
LAST_CHECKPOINT = "last.ckpt"
_SEED_ENV = ("PL_GLOBAL_SEED", "PL_SEED_WORKERS")
"""Set by ``seed_everything`` for Lightning's worker seeding (and spawned DDP ranks) during fit."""


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced (also written to ``{run_dir}/run.json``)."""

    run_name: str
    run_id: str
    run_dir: Path
    best_checkpoint: Path | None
    """Checkpoint of the best val/JaccardIndex (the last one in a final retrain)."""
    last_checkpoint: Path | None
    best_score: float | None
    """Best val/JaccardIndex (None in a final retrain)."""
    metrics: dict[str, float]
    """Metrics logged last (the final validation's val metrics and the last epoch's train metrics)."""
    best_metrics: dict[str, float] = field(default_factory=dict)
    """Metrics at the moment the best checkpoint was saved."""
    trial_name: str | None = None
    epochs_trained: int = 0
    stopped_early: bool = False
    final_retrain: bool = False
    """Trained on all of cross-val without validation: no early stopping, best = last checkpoint."""

    def to_json(self) -> dict[str, Any]:
        """Plain values for ``run.json``: paths below the run folder relative to it (``run_dir`` is ".")."""
        data = asdict(self)
        return {k: record_path(v, self.run_dir) if isinstance(v, Path) else v for k, v in data.items()}


@dataclass(frozen=True)
class _Resume:
    identity: RunIdentity
    checkpoint: Path
    epoch: int


def _read_checkpoint(path: Path) -> dict[str, Any]:
    if not Path(path).is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises UnpicklingError, RuntimeError, EOFError, ...
        raise CheckpointError(f"cannot read checkpoint {path}: {err}") from err


def _resume_info(config: TrainConfig) -> _Resume:
    """The run a checkpoint belongs to: its folder is reused and its metrics file appended to."""
    path = Path(config.continue_from_checkpoint)
    ckpt = _read_checkpoint(path)
    run = (ckpt.get("hyper_parameters") or {}).get("run") or {}
    if "run_name" not in run or "run_id" not in run:
        raise CheckpointError(f"{path} lacks run name / id in its hparams; it was not written by train-smp")
    name, rid, trial = run["run_name"], run["run_id"], run.get("trial_name")
    for key, given, stored in (("run_name", config.run_name, name), ("run_id", config.run_id, rid)):
        if given is not None and given != stored:
            log.warning("%s=%r ignored: continuing run %s/%s of %s", key, given, name, rid, path)
    if path.parent.name == CHECKPOINT_DIR:
        run_dir = path.parent.parent
    else:
        run_dir = run_dir_for(config.artifact_dir, name, rid, trial)
        run_dir.mkdir(parents=True, exist_ok=True)
    log.info("resuming run %s/%s from %s (epoch %s) in %s", name, rid, path, ckpt.get("epoch"), run_dir)
    return _Resume(RunIdentity(name, rid, trial, run_dir), path, int(ckpt.get("epoch", 0)))


def _run_info(
    config: TrainConfig, identity: RunIdentity, n_patches: dict[str, int], patch_size: int | None
) -> dict[str, Any]:
    return {
        "run_name": identity.run_name,
        "run_id": identity.run_id,
        "trial_name": identity.trial_name,
        "random_seed": config.random_seed,
        "fold": None if config.final_retrain else config.fold,
        "n_folds": config.n_folds,
        "final_retrain": config.final_retrain,
        "patch_size": patch_size,
        "dataset": dataset_fingerprint(config.train_data_dir, n_patches),
        "versions": library_versions(),
        "git_commit": git_commit(),
        "config": config.model_dump(mode="json"),
    }


def _callbacks(
    config: TrainConfig, identity: RunIdentity, datamodule: Any, bands: list[str]
) -> list[L.Callback]:
    ckpt_dir = identity.run_dir / CHECKPOINT_DIR
    callbacks: list[L.Callback] = [RichProgressBar(leave=True), LearningRateMonitor(logging_interval="epoch")]
    if config.final_retrain:
        callbacks.append(
            ModelCheckpoint(
                dirpath=ckpt_dir,
                save_last=True,
                save_top_k=0,
                save_on_train_epoch_end=True,
                enable_version_counter=False,
            )
        )
        return callbacks
    callbacks += [
        ModelCheckpoint(
            dirpath=ckpt_dir,
            filename="best-epoch{epoch:03d}",
            auto_insert_metric_name=False,
            monitor=VAL_MONITOR_KEY,
            mode="max",
            save_top_k=1,
            save_last=True,
            save_on_train_epoch_end=False,
            enable_version_counter=False,  # last.ckpt is replaced, also in a resumed run that moved
        ),
        FinalValidation(),
    ]
    if config.early_stopping_patience > 0:
        callbacks.append(
            EarlyStopping(
                monitor=VAL_MONITOR_KEY,
                mode="max",
                patience=config.early_stopping_patience,
                check_on_train_epoch_end=False,
            )
        )
    if config.plot_every_n_val_epochs > 0:
        dataset = datamodule.val_dataset
        callbacks.append(
            ValidationPlots(
                dataset,
                plot_indices(datamodule),
                bands,
                identity.run_dir / "plots" / "val",
                config.plot_every_n_val_epochs,
            )
        )
    return callbacks


def _trainer(
    config: TrainConfig, hw: TrainerDevices, callbacks: list[L.Callback], loggers: list[Any]
) -> L.Trainer:
    # several devices: spawn the DDP workers from this process, so the run folder, its name and id
    # are made once (the subprocess launcher would re-run the command and draw a new run id per rank)
    multi = (isinstance(hw.devices, list) and len(hw.devices) > 1) or config.num_nodes > 1
    return L.Trainer(
        accelerator=hw.accelerator,
        strategy="ddp_spawn" if multi else "auto",
        devices=hw.devices,
        num_nodes=config.num_nodes,
        precision=hw.precision,
        max_epochs=config.max_epochs,
        log_every_n_steps=config.log_every_n_steps,
        check_val_every_n_epoch=config.check_val_every_n_epoch,
        limit_val_batches=0 if config.final_retrain else None,
        callbacks=callbacks,
        logger=loggers,
        default_root_dir=loggers[0].save_dir,
        enable_model_summary=False,
        benchmark=hw.on_gpu,
    )


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, path)


def _floats(metrics: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if getattr(v, "numel", lambda: 1)() == 1}


def _result(
    identity: RunIdentity, trainer: L.Trainer, stopped_early: bool, final_retrain: bool
) -> TrainResult:
    ckpt_cb = trainer.checkpoint_callback
    last = identity.run_dir / CHECKPOINT_DIR / LAST_CHECKPOINT
    best = Path(ckpt_cb.best_model_path) if ckpt_cb is not None and ckpt_cb.best_model_path else None
    best = best or (last if last.is_file() else None)
    score = ckpt_cb.best_model_score if ckpt_cb is not None else None
    best_metrics = _read_checkpoint(best).get(PROVENANCE_KEY, {}).get("metrics", {}) if best else {}
    return TrainResult(
        run_name=identity.run_name,
        run_id=identity.run_id,
        run_dir=identity.run_dir,
        best_checkpoint=best,
        last_checkpoint=last if last.is_file() else None,
        best_score=float(score) if score is not None else None,
        metrics=_floats(trainer.callback_metrics),
        best_metrics=best_metrics,
        trial_name=identity.trial_name,
        epochs_trained=trainer.current_epoch,
        stopped_early=stopped_early,
        final_retrain=final_retrain,
    )


def train_smp(config: TrainConfig) -> TrainResult:
    """Train one model on fold ``config.fold`` of cross-val (all of it with ``final_retrain``).

    Creates (or, with ``continue_from_checkpoint``, reuses) the run folder, logs to CSV (and
    wandb), saves best and last checkpoints and returns a :class:`TrainResult`.
    """
    from darts_dataset import TrainingSet

    training_set = TrainingSet(config.train_data_dir)
    bands = list(config.bands or training_set.bands)
    datamodule = build_datamodule(config, bands)  # checks the bands before a run folder exists
    resume = _resume_info(config) if config.continue_from_checkpoint else None
    identity = (
        resume.identity
        if resume
        else create_run_dir(config.artifact_dir, config.run_name, config.run_id, config.trial_name)
    )
    log.info("run %s/%s in %s", identity.run_name, identity.run_id, identity.run_dir)
    seed_env = {k: os.environ.get(k) for k in _SEED_ENV}
    try:
        L.seed_everything(config.random_seed, workers=True, verbose=False)
        return _fit(config, training_set, datamodule, bands, identity, resume)
    finally:
        _restore_env(seed_env)


def _fit(
    config: TrainConfig,
    training_set: Any,
    datamodule: Any,
    bands: list[str],
    identity: RunIdentity,
    resume: _Resume | None,
) -> TrainResult:
    n_patches = {
        s: training_set.n_patches(s) for s in ("cross-val", "val-test", "test") if training_set.has_split(s)
    }
    if not config.final_retrain:
        write_fold_assignment(datamodule, identity.run_dir / FOLDS_FILE)
    hw = resolve_trainer_devices(config.accelerator, config.devices, config.precision)
    task = SegmentationTask(
        model_arch=config.model_arch,
        model_encoder=config.model_encoder,
        model_encoder_weights=config.model_encoder_weights,
        bands=bands,
        norm_factors=datamodule.norm_factors,
        learning_rate=config.learning_rate,
        gamma=config.gamma,
        focal_loss_alpha=config.focal_loss_alpha,
        focal_loss_gamma=config.focal_loss_gamma,
        fold=None if config.final_retrain else config.fold,
        run=_run_info(config, identity, n_patches, training_set.patch_size),
        channels_last=hw.channels_last,
    )
    loggers = build_loggers(
        identity,
        wandb_project=config.wandb_project,
        wandb_entity=config.wandb_entity,
        wandb_group=config.wandb_group,
        keep_until_epoch=resume.epoch if resume else None,
    )
    callbacks = _callbacks(config, identity, datamodule, bands)
    trainer = _trainer(config, hw, callbacks, loggers)
    try:
        with warnings.catch_warnings():
            if resume:  # continuing a run reuses its checkpoint folder on purpose
                warnings.filterwarnings("ignore", message=r"Checkpoint directory .* exists and is not empty")
            trainer.fit(task, datamodule=datamodule, ckpt_path=resume.checkpoint if resume else None)
    finally:
        _finish_wandb(loggers)  # a failed run must not stay attached to the next one in a sweep
    stopped = any(isinstance(c, EarlyStopping) and c.stopped_epoch > 0 for c in callbacks)
    result = _result(identity, trainer, stopped, config.final_retrain)
    if trainer.is_global_zero:
        _write_json(identity.run_dir / RUN_FILE, result.to_json())
    return result


def _restore_env(saved: dict[str, str | None]) -> None:
    """Undo seed_everything's environment variables: a library call leaves the process as it found it."""
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _finish_wandb(loggers: list[Any]) -> None:
    from lightning.pytorch.loggers import WandbLogger

    for logger in loggers:
        if isinstance(logger, WandbLogger) and logger._experiment is not None:
            logger.experiment.finish()
