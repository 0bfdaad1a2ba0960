"""Errors raised by darts_sweep."""

from __future__ import annotations

from darts_core.errors import DartsConfigError, DartsError


class SweepSpecError(DartsConfigError):
    """A sweep file (wandb sweep YAML) that darts cannot turn into an Optuna search space."""


class SweepConfigError(DartsConfigError):
    """A sweep setting (sweep-id, device, storage, training options) that cannot work."""


class SweepStorageError(DartsError, RuntimeError):
    """The sweep database cannot be opened or does not hold the requested sweep."""


class TrainingRunError(DartsError, RuntimeError):
    """One training run of a trial failed (exception, crash, out of memory, NaN score)."""
