"""Checkpoints of train-smp: the best epoch, last.ckpt after every epoch, atomic writes.

* :class:`BestCheckpoint` keeps ``best-epoch{E:03d}.ckpt`` of the best ``val/JaccardIndex``. It
  saves at the end of a training epoch that was validated, so the file (and ``run.json``'s
  ``best_metrics``) holds that epoch's ``train/…`` metrics, not the previous epoch's.
* :class:`LastCheckpoint` writes ``last.ckpt`` after every finished epoch (final retrain included)
  and, optionally, every n minutes within an epoch. When the epoch just saved as best, ``last.ckpt``
  becomes a hard link to the best file (one file's bytes; a copy across file systems).
* :class:`AtomicCheckpointIO` writes every Lightning checkpoint to a temp name and renames it, so
  neither a crash nor a full disk leaves a truncated file under the final name; a later save
  replaces a linked name with a new file and never changes the other name.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Checkpoint, ModelCheckpoint
from lightning.pytorch.plugins.io import TorchCheckpointIO

from darts_core.atomic import link_or_copy_atomically
from darts_models.checkpoint import save_torch_atomically
from darts_models.metric_keys import VAL_MONITOR_KEY

log = logging.getLogger(__name__)

LAST_CHECKPOINT = "last.ckpt"
BEST_FILENAME = "best-epoch{epoch:03d}"


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's torch checkpoint IO, writing each file to a temp name first (ENOSPC: DiskFullError)."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None
    ) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options")
        save_torch_atomically(checkpoint, Path(path))


class BestCheckpoint(ModelCheckpoint):
    """``best-epoch{E:03d}.ckpt`` of the best val/JaccardIndex, saved at the end of a validated epoch."""

    def __init__(self, dirpath: Path) -> None:
        super().__init__(
            dirpath=dirpath,
            filename=BEST_FILENAME,
            auto_insert_metric_name=False,
            monitor=VAL_MONITOR_KEY,
            mode="max",
            save_top_k=1,
            save_last=False,
            save_on_train_epoch_end=True,
            enable_version_counter=False,
        )
        self._validated_at_step: int | None = None

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._validated_at_step = trainer.global_step

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # without a validation in this epoch the monitored value is the previous validation's
        if self._validated_at_step == trainer.global_step:
            super().on_train_epoch_end(trainer, pl_module)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the best score and file; a run folder that moved keeps them (its files moved along)."""
        old = state_dict.get("dirpath")
        if old is not None and self.dirpath is not None and Path(old) != Path(self.dirpath):
            state_dict = _moved(state_dict, Path(old), Path(self.dirpath))
        super().load_state_dict(state_dict)

    def saved_at(self, trainer: L.Trainer) -> Path | None:
        """The best file when it was saved at the trainer's current step, else None."""
        saved_now = self._last_global_step_saved == trainer.global_step
        if saved_now and self.best_model_path and self._last_checkpoint_saved == self.best_model_path:
            return Path(self.best_model_path)
        return None


def _moved(state: dict[str, Any], old_dir: Path, new_dir: Path) -> dict[str, Any]:
    """``state`` with paths into ``old_dir`` pointing at the same names in ``new_dir`` (where those exist)."""

    def move(path: Any) -> Any:
        if not path or Path(path).parent != old_dir or not (new_dir / Path(path).name).is_file():
            return path
        return str(new_dir / Path(path).name)

    moved = {k: move(state.get(k)) for k in ("best_model_path", "kth_best_model_path", "last_model_path")}
    best_k = {move(k): v for k, v in (state.get("best_k_models") or {}).items()}
    return {**state, **moved, "best_k_models": best_k, "dirpath": str(new_dir)}


class LastCheckpoint(Checkpoint):
    """``last.ckpt``: the state after the most recent finished epoch, and every ``every_minutes`` within one.

    Put it after :class:`BestCheckpoint` in the callback list: Lightning runs checkpoint callbacks last
    and in their given order, so the best file of this epoch already exists when last.ckpt is made.
    """

    def __init__(self, dirpath: Path, every_minutes: float | None = None, best: BestCheckpoint | None = None):
        super().__init__()
        self.path = Path(dirpath) / LAST_CHECKPOINT
        self.every_seconds = None if every_minutes is None else every_minutes * 60.0
        self.best = best
        self._last_save = time.monotonic()

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._last_save = time.monotonic()

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self.every_seconds is None:
            return
        due = time.monotonic() - self._last_save >= self.every_seconds
        if trainer.strategy.broadcast(due):  # rank 0 decides: every rank must take part in a save
            self._save(trainer)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        best = self.best.saved_at(trainer) if self.best is not None else None
        if best is None:
            self._save(trainer)
            return
        if trainer.is_global_zero:
            link_or_copy_atomically(best, self.path)
        trainer.strategy.barrier()
        self._last_save = time.monotonic()
        log.debug("%s is %s", self.path, best.name)

    def _save(self, trainer: L.Trainer) -> None:
        trainer.save_checkpoint(self.path)
        self._last_save = time.monotonic()
        log.debug("saved %s at epoch %d, step %d", self.path, trainer.current_epoch, trainer.global_step)


def checkpoint_callbacks(
    ckpt_dir: Path, *, final_retrain: bool, every_minutes: float | None
) -> list[Checkpoint]:
    """The checkpoint callbacks of a run, best first (none in a final retrain), last.ckpt last."""
    best = None if final_retrain else BestCheckpoint(ckpt_dir)
    last = LastCheckpoint(ckpt_dir, every_minutes=every_minutes, best=best)
    return [last] if best is None else [best, last]


def best_checkpoint_callback(trainer: L.Trainer) -> BestCheckpoint | None:
    """The trainer's :class:`BestCheckpoint` (None in a final retrain)."""
    return next((c for c in trainer.checkpoint_callbacks if isinstance(c, BestCheckpoint)), None)


__all__ = [
    "LAST_CHECKPOINT",
    "AtomicCheckpointIO",
    "BestCheckpoint",
    "LastCheckpoint",
    "best_checkpoint_callback",
    "checkpoint_callbacks",
]
