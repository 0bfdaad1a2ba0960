"""Errors raised by darts_models; each subclasses :class:`darts_core.errors.DartsError`.

:class:`CheckpointError` and :class:`DiskFullError` are darts_core's (shared with darts_train and every
atomic write); they are re-exported here.
"""

from __future__ import annotations

from darts_core.errors import (
    CheckpointError,
    DartsError,
    DartsFileNotFoundError,
    DartsInputError,
    DiskFullError,
)


class UnknownModelError(DartsInputError):
    """An smp architecture or encoder name that smp / timm do not know."""


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
    "DiskFullError",
    "ExportError",
    "UnknownModelError",
]
