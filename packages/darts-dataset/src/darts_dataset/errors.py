"""Errors raised by darts_dataset (all are :class:`darts_core.errors.DartsError`)."""

from __future__ import annotations

from darts_core.errors import (
    DartsFileNotFoundError,
    DartsInputError,
    TrainingSetError,
    UnknownBandError,
)


class BandSelectionError(UnknownBandError):
    """A requested band is not in the training set."""


class FoldError(DartsInputError):
    """Folds cannot be made as asked (too many folds for the scenes, a fold index out of range)."""


class SamplingError(DartsInputError):
    """Training patches cannot be drawn as asked (balanced sampling of a set without RTS, bad ratio)."""


__all__ = ["BandSelectionError", "DartsFileNotFoundError", "FoldError", "SamplingError", "TrainingSetError"]
