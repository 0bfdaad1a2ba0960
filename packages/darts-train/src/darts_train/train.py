"""``train_smp``: one training run, returning where its artifacts are and how it scored."""

from __future__ import annotations

import json
import logging
import os
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import lightning as L
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, RichProgressBar

from darts_core.atomic import write_text_atomically
from darts_core.recorded_paths import record_path, resolve_recorded
from darts_models.metric_keys import VAL_MONITOR_KEY
from darts_train.callbacks import FinalValidation, UndefinedTolerantEarlyStopping, ValidationPlots
from darts_train.checkpoint_file import read_checkpoint
from darts_train.checkpointing import (
    LAST_CHECKPOINT,
    AtomicCheckpointIO,
    best_checkpoint_callback,
    checkpoint_callbacks,
)
from darts_train.config import TrainConfig
from darts_train.data import FOLDS_FILE, build_datamodule, plot_indices, write_fold_assignment
from darts_train.hardware import TrainerDevices, resolve_trainer_devices
from darts_train.interrupts import CheckpointOnInterrupt, StopAtBatchEnd, as_interrupt, resume_command
from darts_train.loggers import build_loggers
from darts_train.module import PROVENANCE_KEY, SegmentationTask
from darts_train.naming import RunIdentity, create_run_dir, run_dir_for
from darts_train.provenance import dataset_fingerprint, git_commit, library_versions
from darts_train.requeue import find_requeued_run
from darts_train.resume import CHECKPOINT_DIR, Resume, plan_resume, prepare_resume_dir
from darts_train.signals import TrainingInterruptedError, stop_on_signals

if TYPE_CHECKING:
    from darts_dataset import DartsDataModule, TrainingSet

log = logging.getLogger(__name__)

RUN_FILE = "run.json"
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
    status: str = "finished"
    """finished, or interrupted (by SIGTERM / SIGINT: resume from last_checkpoint)."""

    def to_json(self) -> dict[str, Any]:
        """Plain values for ``run.json``: paths below the run folder relative to it (``run_dir`` is ".")."""
        data = asdict(self)
        return {k: record_path(v, self.run_dir) if isinstance(v, Path) else v for k, v in data.items()}


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
    callbacks: list[L.Callback] = [RichProgressBar(leave=True), LearningRateMonitor(logging_interval="epoch")]
    callbacks += checkpoint_callbacks(
        identity.run_dir / CHECKPOINT_DIR,
        final_retrain=config.final_retrain,
        every_minutes=config.checkpoint_every_n_minutes,
    )
    if config.final_retrain:
        return callbacks
    callbacks.append(FinalValidation())
    if config.early_stopping_patience > 0:
        callbacks.append(
            UndefinedTolerantEarlyStopping(
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
    multi = hw.n_processes > 1 or config.num_nodes > 1
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
        plugins=[AtomicCheckpointIO()],
        logger=loggers,
        default_root_dir=loggers[0].save_dir,
        enable_model_summary=False,
        benchmark=hw.on_gpu,
    )


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_text_atomically(path, json.dumps(data, indent=2, default=str))


def _floats(metrics: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if getattr(v, "numel", lambda: 1)() == 1}


def _result(
    identity: RunIdentity, trainer: L.Trainer, stopped_early: bool, final_retrain: bool
) -> TrainResult:
    ckpt_cb = best_checkpoint_callback(trainer)
    last = identity.run_dir / CHECKPOINT_DIR / LAST_CHECKPOINT
    best = Path(ckpt_cb.best_model_path) if ckpt_cb is not None and ckpt_cb.best_model_path else None
    best = best or (last if last.is_file() else None)
    score = ckpt_cb.best_model_score if ckpt_cb is not None else None
    best_metrics = read_checkpoint(best).get(PROVENANCE_KEY, {}).get("metrics", {}) if best else {}
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
    from darts_dataset.nextgen_options import nextgen_options_of

    training_set = TrainingSet(config.train_data_dir, nextgen_options_of(config))
    bands = list(config.bands or training_set.bands)
    datamodule = build_datamodule(config, bands)  # checks the bands before a run folder exists
    hw = resolve_trainer_devices(config.accelerator, config.devices, config.precision)  # and the devices
    config, finished = _auto_resume(config)
    if finished is not None:
        return finished
    resume = None
    if config.continue_from_checkpoint:  # every check before anything is written
        n_cross_val = training_set.n_patches("cross-val") if training_set.has_split("cross-val") else None
        resume = plan_resume(config, bands, n_cross_val)
        prepare_resume_dir(resume)
        identity = resume.identity
    else:
        identity = create_run_dir(
            config.artifact_dir,
            config.run_name,
            config.run_id,
            config.trial_name,
            reuse=config.resume == "auto",
        )
    log.info("run %s/%s in %s", identity.run_name, identity.run_id, identity.run_dir)
    seed_env = {k: os.environ.get(k) for k in _SEED_ENV}
    try:
        L.seed_everything(config.random_seed, workers=True, verbose=False)
        return _fit(config, training_set, datamodule, bands, identity, resume, hw)
    finally:
        _restore_env(seed_env)


def _fit(
    config: TrainConfig,
    training_set: TrainingSet,
    datamodule: DartsDataModule,
    bands: list[str],
    identity: RunIdentity,
    resume: Resume | None,
    hw: TrainerDevices,
) -> TrainResult:
    n_patches = {
        s: training_set.n_patches(s) for s in ("cross-val", "val-test", "test") if training_set.has_split(s)
    }
    folds_file = identity.run_dir / FOLDS_FILE
    if not config.final_retrain and not (resume and folds_file.is_file()):  # a resume keeps its folds
        write_fold_assignment(datamodule, folds_file)
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
    last = identity.run_dir / CHECKPOINT_DIR / LAST_CHECKPOINT
    with stop_on_signals() as request:
        callbacks = _callbacks(config, identity, datamodule, bands)
        callbacks += [StopAtBatchEnd(request), CheckpointOnInterrupt(last)]
        trainer = _trainer(config, hw, callbacks, loggers)
        try:
            with warnings.catch_warnings():
                if resume:  # continuing a run reuses its checkpoint folder on purpose
                    warnings.filterwarnings(
                        "ignore", message=r"Checkpoint directory .* exists and is not empty"
                    )
                trainer.fit(task, datamodule=datamodule, ckpt_path=resume.checkpoint if resume else None)
        except BaseException as exc:
            interrupt = as_interrupt(exc, request)
            if interrupt is None:
                raise
            raise _interrupted(config, identity, trainer, interrupt) from None
        finally:
            _finish_wandb(loggers)  # a failed run must not stay attached to the next one in a sweep
    stopped = any(isinstance(c, EarlyStopping) and c.stopped_epoch > 0 for c in callbacks)
    result = _result(identity, trainer, stopped, config.final_retrain)
    if trainer.is_global_zero:
        _write_json(identity.run_dir / RUN_FILE, result.to_json())
    return result


def _interrupted(
    config: TrainConfig,
    identity: RunIdentity,
    trainer: L.Trainer,
    interrupt: TrainingInterruptedError,
) -> TrainingInterruptedError:
    """Record the interrupted run in run.json; the error's message says how to resume it."""
    last = identity.run_dir / CHECKPOINT_DIR / LAST_CHECKPOINT
    result = replace(_result(identity, trainer, False, config.final_retrain), status="interrupted")
    if trainer.is_global_zero:
        _write_json(identity.run_dir / RUN_FILE, result.to_json())
    where = f"run {identity.run_name}/{identity.run_id} interrupted in epoch {trainer.current_epoch}"
    if not last.is_file():
        return TrainingInterruptedError(interrupt.signum, f"{interrupt}: {where}, before any checkpoint")
    options = config.model_dump(mode="json", exclude_defaults=True)
    options.update(run_name=identity.run_name, run_id=identity.run_id)
    command = resume_command(options, last)
    return TrainingInterruptedError(interrupt.signum, f"{interrupt}: {where}; resume with: {command}")


def _auto_resume(config: TrainConfig) -> tuple[TrainConfig, TrainResult | None]:
    """resume=auto: continue from the run's last.ckpt when it has one; a finished run is returned as is."""
    if config.resume != "auto":
        return config, None
    if config.run_name is None or config.run_id is None:  # TrainConfig refuses resume=auto without them
        raise ValueError("resume=auto needs run_name and run_id: they name the run to continue")
    run_dir = run_dir_for(config.artifact_dir, config.run_name, config.run_id, config.trial_name)
    found = find_requeued_run(run_dir / RUN_FILE, run_dir / CHECKPOINT_DIR / LAST_CHECKPOINT)
    if found.finished is not None:
        paths = ("run_dir", "best_checkpoint", "last_checkpoint")
        known = {k: v for k, v in found.finished.items() if k in TrainResult.__dataclass_fields__}
        # run.json records paths relative to the run folder
        values: dict[str, Any] = {
            k: resolve_recorded(v, run_dir) if k in paths and v else v for k, v in known.items()
        }
        return config, TrainResult(**values)
    if found.checkpoint is not None:
        return config.model_copy(update={"continue_from_checkpoint": found.checkpoint}), None
    return config, None


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
