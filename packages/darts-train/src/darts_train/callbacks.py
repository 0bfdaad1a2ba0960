"""Callbacks of train-smp: the final validation and validation sample plots (extras only)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping
from lightning.pytorch.loggers import WandbLogger

from darts_train.plotting import plot_sample, save_figure

log = logging.getLogger(__name__)


class FinalValidation(L.Callback):
    """Validate after the last epoch even when max_epochs is not a multiple of check_val_every_n_epoch."""

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.max_epochs is not None and trainer.current_epoch >= trainer.max_epochs - 1:
            trainer.check_val_every_n_epoch = 1


class UndefinedTolerantEarlyStopping(EarlyStopping):
    """Early stopping that skips a validation whose monitored metric is NaN (undefined, not worse).

    On a validation fold without any RTS pixel the IoU is undefined (logged as NaN): such a
    validation neither improves nor counts against the patience, so the run trains its epochs
    instead of stopping after ``patience`` validations. Inf still stops the run (``check_finite``).
    """

    def _evaluate_stopping_criteria(self, current: torch.Tensor) -> tuple[bool, str | None]:
        if bool(torch.isnan(current)):
            return False, None
        return super()._evaluate_stopping_criteria(current)


def _is_last_epoch(trainer: L.Trainer) -> bool:
    return trainer.max_epochs is not None and trainer.current_epoch >= trainer.max_epochs - 1


class ValidationPlots(L.Callback):
    """Plot fixed validation samples every ``every_n_val`` validations and after the last epoch.

    ``indices`` are positions in ``dataset`` (items carry their patch index in the split).

    Nothing is plotted during the sanity check. PNGs go to ``{out_dir}/epoch{E:04d}/``; with a
    wandb logger they are logged as images too. The validation counter survives a resume.
    """

    def __init__(
        self, dataset: Any, indices: Sequence[int], bands: Sequence[str], out_dir: Path, every_n_val: int
    ) -> None:
        super().__init__()
        self.dataset = dataset
        self.indices = [int(i) for i in indices]
        self.bands = list(bands)
        self.out_dir = Path(out_dir)
        self.every_n_val = every_n_val
        self.n_validations = 0

    def state_dict(self) -> dict[str, Any]:
        return {"n_validations": self.n_validations}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.n_validations = int(state_dict.get("n_validations", 0))

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        self.n_validations += 1
        if self.every_n_val == 0 or not self.indices or not trainer.is_global_zero:
            return
        if self.n_validations % self.every_n_val != 0 and not _is_last_epoch(trainer):
            return
        paths = self.plot(pl_module, trainer.current_epoch)
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                logger.log_image(key="val/samples", images=[str(p) for p in paths], step=trainer.global_step)

    @torch.no_grad()
    def plot(self, pl_module: L.LightningModule, epoch: int) -> list[Path]:
        """Predict and plot every chosen sample; return the PNG paths."""
        was_training = pl_module.training
        pl_module.eval()
        paths = []
        for position in self.indices:
            item = self.dataset[position]
            x, index = item["x"], int(item["index"])
            prob = torch.sigmoid(pl_module(x[None].to(pl_module.device)).float())[0]
            fig = plot_sample(
                x.numpy(),
                item["y"].numpy(),
                prob.cpu().numpy(),
                self.bands,
                title=f"epoch {epoch}, cross-val patch {index}",
            )
            paths.append(save_figure(fig, self.out_dir / f"epoch{epoch:04d}" / f"patch{index:06d}.png"))
        pl_module.train(was_training)
        log.debug("wrote %d validation plots for epoch %d", len(paths), epoch)
        return paths
