"""Errors raised by the darts command-line layer and the exit codes every command uses.

| code | meaning                                                                          |
|------|----------------------------------------------------------------------------------|
| 0    | success                                                                          |
| 1    | a darts error: an input file, data or run that darts cannot use (message names it) |
| 2    | a usage error: unknown option, invalid value, config file, `DARTS_*` variable or  |
|      | sweep file                                                                       |
| 70   | an unexpected error (a bug): the traceback is in the log file                    |
| 130  | interrupted by SIGINT (Ctrl-C)                                                   |
| 143  | interrupted by SIGTERM (a scheduler stopping the job)                            |

The same table is in the "Runs that fail" page of the guide.
"""

from __future__ import annotations

import signal

from darts_core.errors import DartsConfigError, DartsFileNotFoundError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_UNEXPECTED = 70
"""BSD's EX_SOFTWARE: an internal error."""
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM


class ConfigError(DartsConfigError):
    """A config file, an environment variable or an option holds something darts cannot use.

    The CLI prints the message (which names the file or variable, the key, the value and what was
    expected) and exits with code 2.
    """


class ConfigFileNotFoundError(DartsFileNotFoundError):
    """The config file named with `--config-file` (or `DARTS_CONFIG_FILE`) does not exist (exit code 2)."""


USAGE_ERRORS: tuple[type[Exception], ...] = (DartsConfigError, ConfigFileNotFoundError)
"""Errors the CLI reports with exit code 2 (with pydantic's ValidationError and cyclopts' errors)."""
