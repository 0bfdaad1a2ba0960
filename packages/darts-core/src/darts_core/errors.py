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


class DartsConfigError(DartsInputError):
    """A setting, option, config file or sweep file that is wrong before any work starts (CLI exit 2)."""


class DartsFileNotFoundError(DartsError, FileNotFoundError):
    """A file or folder darts needs does not exist."""


class UnknownBandError(DartsInputError):
    """A band name that darts does not know."""


class TrainingSetError(DartsInputError):
    """A training set on disk breaks the layout contract."""


class CheckpointError(DartsInputError):
    """A Lightning checkpoint or deployable model file that is malformed, does not fit its model, or
    lacks what the command needs (the one class for both; darts_models and darts_train re-export it)."""


class DiskFullError(DartsError, OSError):
    """A file could not be written: no space left on its file system (ENOSPC)."""


class SignalInterruptError(DartsError):
    """A long job stopped by a signal (SIGTERM from a scheduler, SIGINT from Ctrl-C).

    ``exit_code`` is the shell's ``128 + signal``: 143 for SIGTERM, 130 for SIGINT.
    """

    def __init__(self, signum: int, message: str | None = None) -> None:
        import signal

        self.signum = int(signum)
        try:
            name = signal.Signals(self.signum).name
        except ValueError:
            name = f"signal {self.signum}"
        self.signal_name = name
        super().__init__(message or f"interrupted by {name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


__all__ = [
    "CheckpointError",
    "DartsConfigError",
    "DartsError",
    "DartsFileNotFoundError",
    "DartsInputError",
    "DiskFullError",
    "SignalInterruptError",
    "TrainingSetError",
    "UnknownBandError",
]
