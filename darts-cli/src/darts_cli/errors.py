"""Errors raised by the darts command-line layer and the exit codes they map to."""

from __future__ import annotations

from darts_preprocess.errors import DartsFileNotFoundError, DartsInputError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class ConfigError(DartsInputError):
    """A config file, an environment variable or an option holds something darts cannot use.

    The CLI prints the message (which names the file or variable, the key, the value and what was
    expected) and exits with code 2.
    """


class ConfigFileNotFoundError(DartsFileNotFoundError):
    """The config file named with `--config-file` does not exist (exit code 2)."""


USAGE_ERRORS: tuple[type[Exception], ...] = (ConfigError, ConfigFileNotFoundError)
"""Errors the CLI reports with exit code 2 (with pydantic's ValidationError)."""
