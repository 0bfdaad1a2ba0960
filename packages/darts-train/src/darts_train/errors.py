"""Errors raised by darts_train; each names the file or value at fault and what to do."""

from __future__ import annotations

from darts_preprocess.errors import DartsError, DartsFileNotFoundError, DartsInputError


class RunExistsError(DartsError, FileExistsError):
    """A run folder (or deployable file) already exists and would be overwritten."""


class CheckpointError(DartsInputError):
    """A checkpoint is not one train-smp wrote, or lacks what the command needs."""


class RunNotFoundError(DartsFileNotFoundError):
    """No run folder or checkpoint matches the given run name / id."""


__all__ = ["CheckpointError", "RunExistsError", "RunNotFoundError"]
