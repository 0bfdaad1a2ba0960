"""Logging of one `darts` command run: rich (or plain) messages on stderr plus a log file.

Only the CLI installs handlers; the libraries just log. The console shows INFO and above (DEBUG with
`--verbose`); the log file gets DEBUG from the darts packages, including tracebacks.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

DARTS_LOGGERS = (
    "darts_cli",
    "darts_preprocess",
    "darts_dataset",
    "darts_models",
    "darts_train",
    "darts_sweep",
)
FILE_FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"


class _NoTracebackFormatter(logging.Formatter):
    """Console messages without tracebacks (those go to the log file; `--verbose` shows them)."""

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        return ""

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's name
        return ""


class _NotShownByLightning(logging.Filter):
    """Drop records that Lightning's own console handler already printed (Lightning adds one on import).

    Lightning's messages still reach the log file; on the console they appear once, in its format.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("lightning"):
            return True
        return not _has_console_handler(record.name)


def _has_console_handler(name: str) -> bool:
    logger: logging.Logger | None = logging.getLogger(name)
    while logger is not None and logger.name != "root":
        for handler in logger.handlers:
            if type(handler) is logging.StreamHandler and handler.stream in (sys.stderr, sys.stdout):
                return True
        logger = logger.parent if logger.propagate else None
    return False


def _console_handler(verbose: bool = False) -> logging.Handler:
    handler = _plain_or_rich_handler(verbose)
    handler.addFilter(_NotShownByLightning())
    return handler


def _plain_or_rich_handler(verbose: bool) -> logging.Handler:
    formatter_cls = logging.Formatter if verbose else _NoTracebackFormatter
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.logging import RichHandler

        rich = RichHandler(console=Console(stderr=True), show_path=False, markup=False)
        rich.setFormatter(formatter_cls("%(message)s"))
        return rich
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter_cls("%(levelname)s %(message)s"))
    return handler


def log_file_path(log_dir: Path, command: str) -> Path:
    """A new file `<log_dir>/darts-<command>-<YYYYmmdd-HHMMSS>-<pid>[-<n>].log`."""
    stem = f"darts-{command}-{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}"
    path = log_dir / f"{stem}.log"
    counter = 1
    while path.exists():
        path = log_dir / f"{stem}-{counter}.log"
        counter += 1
    return path


@contextmanager
def command_logging(log_dir: Path | None, command: str, *, verbose: bool = False) -> Iterator[Path | None]:
    """Install the console and file handlers for one command run; yields the log file (or None)."""
    root = logging.getLogger()
    console = _console_handler(verbose)
    console.setLevel(logging.DEBUG if verbose else logging.INFO)
    handlers: list[logging.Handler] = [console]
    log_file: Path | None = None
    problem = None
    if log_dir is not None:
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
            log_file = log_file_path(log_dir, command)
            file_handler = logging.FileHandler(log_file, encoding="utf-8")
        except OSError as exc:
            log_file, problem = None, exc
        else:
            file_handler.setLevel(logging.DEBUG)
            file_handler.setFormatter(logging.Formatter(FILE_FORMAT))
            handlers.append(file_handler)
    saved_levels = {name: logging.getLogger(name).level for name in ("", *DARTS_LOGGERS)}
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in DARTS_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    for handler in handlers:
        root.addHandler(handler)
    logging.captureWarnings(True)
    if problem is not None:
        logging.getLogger(__name__).warning("cannot write a log file in %s: %s", log_dir, problem)
    try:
        yield log_file
    finally:
        logging.captureWarnings(False)
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)


def route_optuna_logs() -> None:
    """Send Optuna's messages through the darts handlers (console without tracebacks, log file).

    Optuna installs its own stderr handler, which would print a traceback for every failed trial.
    """
    import optuna

    optuna.logging.disable_default_handler()
    optuna.logging.enable_propagation()
