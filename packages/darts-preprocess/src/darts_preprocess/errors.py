"""Error types shared by every darts package.

Each darts package raises subclasses of :class:`DartsError`; the CLI turns them into a one-line
message and exit code 1. Domain errors also subclass the matching builtin so callers can catch
``FileNotFoundError`` or ``ValueError`` as usual.
"""

from __future__ import annotations


class DartsError(Exception):
    """Base class of every error darts raises on purpose."""


class DartsInputError(DartsError, ValueError):
    """An input value, file content or setting is not what darts expects."""


class DartsFileNotFoundError(DartsError, FileNotFoundError):
    """A file or folder darts needs does not exist."""


class UnknownBandError(DartsInputError):
    """A band name that darts does not know."""


class TrainingSetError(DartsInputError):
    """A training set on disk breaks the layout contract."""
