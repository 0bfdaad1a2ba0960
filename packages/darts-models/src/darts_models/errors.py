"""Errors raised by darts_models; each subclasses :class:`darts_preprocess.errors.DartsError`."""

from __future__ import annotations

from darts_preprocess.errors import DartsError, DartsFileNotFoundError, DartsInputError


class UnknownModelError(DartsInputError):
    """An smp architecture or encoder name that smp / timm do not know."""


class CheckpointError(DartsInputError):
    """A deployable model file that is malformed or does not fit its model."""


class CheckpointExistsError(DartsError, FileExistsError):
    """A deployable model file would overwrite an existing file."""


class CheckpointNotFoundError(DartsFileNotFoundError):
    """A deployable model file that does not exist."""


class ExportError(DartsError):
    """A model that cannot be exported to the requested format (or whose export disagrees with torch)."""


__all__ = [
    "CheckpointError",
    "CheckpointExistsError",
    "CheckpointNotFoundError",
    "ExportError",
    "UnknownModelError",
]
