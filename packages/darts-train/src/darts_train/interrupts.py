"""Lightning side of SIGTERM / SIGINT: stop at the end of the batch, save ``last.ckpt``, say how to resume.

:func:`darts_train.signals.stop_on_signals` records the signal; :class:`StopAtBatchEnd` raises
:class:`TrainingInterruptedError` at the end of the current training or validation batch (so the
saved state is that of whole steps) and :class:`CheckpointOnInterrupt` saves it. Lightning's own
SIGTERM exit (``SIGTERMException``) is treated alike.
"""

from __future__ import annotations

import logging
import shlex
import signal
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.utilities.exceptions import SIGTERMException

from darts_train.signals import StopRequest, TrainingInterruptedError

log = logging.getLogger(__name__)


class StopAtBatchEnd(L.Callback):
    """Raise :class:`TrainingInterruptedError` at the end of the batch during which a signal came."""

    def __init__(self, request: StopRequest) -> None:
        super().__init__()
        self.request = request

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.request.deferred = True

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.request.deferred = False

    def _check(self) -> None:
        if self.request.signum is not None:
            raise TrainingInterruptedError(self.request.signum)

    def on_train_batch_end(self, *args: Any) -> None:
        self._check()

    def on_validation_batch_end(self, *args: Any) -> None:
        self._check()


class CheckpointOnInterrupt(L.Callback):
    """Save the trainer's state to ``path`` when a signal stops it (atomically, through the trainer's
    checkpoint IO: a temporary name, then renamed, never into a file another name links to)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.saved = False

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        if not isinstance(exception, TrainingInterruptedError | SIGTERMException):
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        trainer.save_checkpoint(self.path)  # atomic: train-smp's trainer writes through AtomicCheckpointIO
        self.saved = True
        log.info("saved the interrupted state to %s", self.path)


def as_interrupt(exc: BaseException, request: StopRequest) -> TrainingInterruptedError | None:
    """``exc`` as a TrainingInterruptedError when a signal caused it (Lightning's SIGTERM exit too)."""
    if isinstance(exc, TrainingInterruptedError):
        return exc
    if isinstance(exc, SIGTERMException):
        return TrainingInterruptedError(request.signum or signal.SIGTERM)
    return None


def resume_command(options: dict[str, Any], checkpoint: Path) -> str:
    """The ``darts train-smp`` command line that continues the run from ``checkpoint``.

    ``options`` are the run's TrainConfig fields that differ from their defaults (JSON values).
    """
    skip = {"continue_from_checkpoint", "resume"}
    parts = ["darts", "train-smp"]
    for name, value in options.items():
        if name in skip or value is None:
            continue
        option = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            parts.append(option if value else "--no-" + name.replace("_", "-"))
        elif isinstance(value, list | tuple):
            parts += [option, *map(str, value)]
        else:
            parts += [option, str(value)]
    parts += ["--continue-from-checkpoint", str(checkpoint)]
    return shlex.join(parts)
