"""Errors raised by darts_train; each names the file or value at fault and what to do.

:class:`CheckpointError` is darts_core's (the same class darts_models raises); it is re-exported here.
"""

from __future__ import annotations

from darts_core.errors import CheckpointError, DartsError, DartsFileNotFoundError


class RunExistsError(DartsError, FileExistsError):
    """A run folder (or deployable file) already exists and would be overwritten."""


class RunNotFoundError(DartsFileNotFoundError):
    """No run folder or checkpoint matches the given run name / id."""


__all__ = ["CheckpointError", "RunExistsError", "RunNotFoundError"]
