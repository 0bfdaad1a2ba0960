"""The LightningModule of train-smp: an smp model that outputs logits, focal loss, pixel metrics.

The model is a plain ``nn.Module`` from :func:`darts_models.build_model`; this module only adds
the loss, one MetricCollection cloned per stage, the optimizer and the logging keys of
:mod:`darts_models.metric_keys`. The sigmoid is applied once, for the metrics.

``train/…`` metrics count every pixel, as ``val/…`` ones do: AUROC and AveragePrecision are binned
(200 thresholds) and updated from one histogram per batch, and the training stage skips
torchmetrics' per-batch target check (cost per step: docs/benchmarks.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import lightning as L
import torch
from torchmetrics import SumMetric

from darts_core.errors import CheckpointError
from darts_core.labels import LABEL_IGNORE
from darts_models import FocalLoss, build_model, build_pixel_metrics
from darts_models.metric_keys import (
    LOSS,
    POSITIVE_DEPENDENT,
    POSITIVE_PATCHES,
    POSITIVE_PIXELS,
    TRAIN_LOSS_KEY,
    TRAIN_PREFIX,
    VAL_LOSS_KEY,
    VAL_PREFIX,
    fold_metric_key,
    metric_key,
)
from darts_train.finite import NonFiniteError, check_batch, parameters_finite

if TYPE_CHECKING:
    from lightning.pytorch.utilities.types import OptimizerLRSchedulerConfig

PROVENANCE_KEY = "darts"
"""Key of the extra dictionary train-smp adds to every Lightning checkpoint."""


class SegmentationTask(L.LightningModule):
    """Binary RTS segmentation of batches ``{"x": [B, C, H, W], "y": [B, H, W]}``, ``y`` in {0, 1, 2}."""

    def __init__(
        self,
        *,
        model_arch: str,
        model_encoder: str,
        model_encoder_weights: str | None,
        bands: list[str],
        norm_factors: dict[str, float],
        learning_rate: float = 1e-3,
        gamma: float = 0.9,
        focal_loss_alpha: float | None = None,
        focal_loss_gamma: float = 2.0,
        fold: int | None = None,
        run: dict[str, Any] | None = None,
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["channels_last"])
        self.channels_last = channels_last
        self.model = build_model(
            model_arch, model_encoder, model_encoder_weights, in_channels=len(bands), classes=1
        )
        self.loss_fn = FocalLoss(alpha=focal_loss_alpha, gamma=focal_loss_gamma, ignore_index=LABEL_IGNORE)
        # every pixel counts in both stages (AUROC / AP binned, from a histogram); the training
        # stage skips torchmetrics' per-batch check of the target values, which validation keeps
        self.train_metrics = build_pixel_metrics(validate_args=False).clone(prefix=f"{TRAIN_PREFIX}/")
        self.val_metrics = build_pixel_metrics().clone(prefix=f"{VAL_PREFIX}/")
        # RTS pixels / patches seen by a validation epoch: without any, the positive-dependent
        # metrics (IoU, F1, recall, ...) are undefined and logged as NaN, not as 0
        self.val_positive_pixels = SumMetric()
        self.val_positive_patches = SumMetric()
        if channels_last:
            self.model.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, H, W]`` for ``x`` ``[B, C, H, W]``."""
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.model(x).squeeze(1)

    def _shared_step(self, batch: dict[str, torch.Tensor], metrics: Any, stage: str) -> torch.Tensor:
        y = batch["y"]
        logits = self(batch["x"])
        loss = self.loss_fn(logits, y)
        where = f"cross-val ({stage}, epoch {self.current_epoch})"
        check_batch(batch["x"], loss, batch.get("index"), where, y)  # before any optimizer step
        metrics.update(torch.sigmoid(logits.detach().float()), y)
        return loss

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self._shared_step(batch, self.train_metrics, "training")
        self.log(
            TRAIN_LOSS_KEY, loss, on_step=True, on_epoch=False, prog_bar=True, batch_size=len(batch["y"])
        )
        return loss

    def on_train_epoch_end(self) -> None:
        # a run resumed from a checkpoint saved at validation end re-enters the finished epoch's end
        # without a training step: nothing to log then
        if _updated(self.train_metrics):
            self.log_dict(self.train_metrics.compute())
        self.train_metrics.reset()

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self._shared_step(batch, self.val_metrics, "validation")
        n = len(batch["y"])
        positive = batch["y"] == 1
        self.val_positive_pixels.update(positive.sum())
        self.val_positive_patches.update(positive.flatten(1).any(1).sum())
        self.log(VAL_LOSS_KEY, loss, on_epoch=True, prog_bar=True, batch_size=n, sync_dist=True)
        if self.hparams["fold"] is not None:
            self.log(
                fold_metric_key(self.hparams["fold"], LOSS), loss, on_epoch=True, batch_size=n, sync_dist=True
            )
        return loss

    def on_validation_epoch_end(self) -> None:
        if not _updated(self.val_metrics):
            return
        values = self.val_metrics.compute()
        self.val_metrics.reset()
        counts = self._positive_counts()
        if float(counts[metric_key(VAL_PREFIX, POSITIVE_PIXELS)]) == 0:
            values = {k: _undefined(v) if _family(k) in POSITIVE_DEPENDENT else v for k, v in values.items()}
        values.update(counts)
        self.log_dict(values)
        if self.hparams["fold"] is not None:
            prefix = f"{VAL_PREFIX}/"
            self.log_dict(
                {fold_metric_key(self.hparams["fold"], k.removeprefix(prefix)): v for k, v in values.items()}
            )

    def _positive_counts(self) -> dict[str, torch.Tensor]:
        """``val/positive_pixels`` and ``val/positive_patches`` of the epoch (then reset)."""
        pixels = self.val_positive_pixels.compute()
        patches = self.val_positive_patches.compute()
        self.val_positive_pixels.reset()
        self.val_positive_patches.reset()
        return {
            metric_key(VAL_PREFIX, POSITIVE_PIXELS): pixels.float(),
            metric_key(VAL_PREFIX, POSITIVE_PATCHES): patches.float(),
        }

    def configure_optimizers(self) -> OptimizerLRSchedulerConfig:
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.hparams["learning_rate"])
        scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=self.hparams["gamma"])
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Store the metrics of the moment (the best epoch's, in the best checkpoint); never NaN weights."""
        if not parameters_finite(self):
            raise NonFiniteError(
                f"the weights are not finite at epoch {self.current_epoch}: no checkpoint saved"
            )
        metrics = {k: float(v) for k, v in self.trainer.callback_metrics.items() if v.numel() == 1}
        checkpoint[PROVENANCE_KEY] = {"metrics": metrics, "epoch": self.current_epoch}


def _family(key: str) -> str:
    return key.rpartition("/")[2]


def _undefined(value: torch.Tensor) -> torch.Tensor:
    """NaN: the metric has no value on a validation set without RTS (missing, not 0)."""
    return torch.full_like(value, float("nan"), dtype=torch.float32)


def _updated(metrics: Any) -> bool:
    return any(m.update_called for m in metrics.values())


def load_task(checkpoint: Path, map_location: str | torch.device = "cpu") -> SegmentationTask:
    """Load a train-smp checkpoint for inference, never downloading pretrained encoder weights."""
    from darts_train.checkpoint_file import check_checkpoint_file

    checkpoint = Path(checkpoint)
    check_checkpoint_file(checkpoint)
    try:
        task = SegmentationTask.load_from_checkpoint(
            checkpoint, map_location=map_location, model_encoder_weights=None, weights_only=True
        )
    except (KeyError, TypeError) as err:
        raise CheckpointError(
            f"{checkpoint} is not a train-smp checkpoint (missing or unexpected hparams: {err})"
        ) from err
    task.eval()
    return task
