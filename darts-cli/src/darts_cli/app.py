"""The `darts` command-line application: global options, lazy commands, logging and exit codes."""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from cyclopts import App, CycloptsError, Parameter
from pydantic import ValidationError

from darts_cli.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_UNEXPECTED, EXIT_USAGE, USAGE_ERRORS
from darts_cli.logs import command_logging
from darts_cli.registry import COMMANDS, CommandInfo
from darts_cli.settings import DEFAULT_CONFIG_FILE, RunContext

if TYPE_CHECKING:
    import inspect

    from pydantic import BaseModel

logger = logging.getLogger("darts_cli")
GLOBAL = "Global options"


def _version() -> str:
    try:
        return version("darts-cli")
    except PackageNotFoundError:  # pragma: no cover - always installed in the workspace
        return "unknown"


def build_app(commands: Sequence[CommandInfo] = COMMANDS) -> App:
    """The cyclopts app with `commands` registered lazily and the global options on its meta app."""
    app = App(
        name="darts",
        help="darts: train, test and sweep segmentation models of retrogressive thaw slumps.",
        version=_version,
        result_action="return_value",
    )
    for info in commands:
        app.command(info.target, name=info.name, help=info.help)

    @app.meta.default
    def launcher(
        *tokens: Annotated[str, Parameter(show=False, allow_leading_hyphen=True)],
        config_file: Annotated[Path | None, Parameter(env_var="DARTS_CONFIG_FILE", group=GLOBAL)] = None,
        log_dir: Annotated[Path, Parameter(env_var="DARTS_LOG_DIR", group=GLOBAL)] = Path("logs"),
        verbose: Annotated[bool, Parameter(alias="-v", negative=(), group=GLOBAL)] = False,
    ) -> int:
        """Run a darts command.

        Args:
            config_file: TOML file whose [darts] table sets options (default: ./config.toml if it
                exists).
            log_dir: Folder for the log file of each command run (with the traceback of any error).
            verbose: Show debug messages.
        """
        try:
            command, bound, ignored = app.parse_args(tokens, exit_on_error=False, print_error=False)
        except CycloptsError:
            raise
        except Exception as exc:  # e.g. a command module that fails to import
            with command_logging(log_dir, "darts", verbose=verbose) as log_file:
                return report_error(exc, log_file)
        name = getattr(command, "__name__", "darts").replace("_", "-")
        ctx = RunContext(
            command=name,
            config_file=config_file or DEFAULT_CONFIG_FILE,
            config_file_explicit=config_file is not None,
            config_file_named_by=_config_file_named_by(config_file),
            known_models=_models_of(commands) if commands is not COMMANDS else None,
        )
        if "ctx" in ignored:
            bound.arguments["ctx"] = ctx
        with command_logging(log_dir, name, verbose=verbose) as log_file:
            logger.debug("darts %s (log file %s)", " ".join(map(mask_password, tokens)), log_file)
            return _run(command, bound, log_file)

    return app


def _config_file_named_by(config_file: Path | None) -> str:
    """``DARTS_CONFIG_FILE`` when the file is that variable's value, else ``--config-file``."""
    env = os.environ.get("DARTS_CONFIG_FILE")
    return (
        "DARTS_CONFIG_FILE"
        if env and config_file is not None and Path(env) == config_file
        else "--config-file"
    )


_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^/\s]*@")


def mask_password(text: str) -> str:
    """``text`` with the password of any URL in it (``scheme://user:password@host``) shown as ``***``."""
    return _URL_PASSWORD.sub(r"\1***@", text)


def _models_of(commands: Sequence[CommandInfo]) -> tuple[type[BaseModel], ...]:
    from darts_cli.registry import settings_models

    return tuple(settings_models(commands).values())


def _run(command: Callable[..., int | None], bound: inspect.BoundArguments, log_file: Path | None) -> int:
    try:
        result = command(*bound.args, **bound.kwargs)
    except (KeyboardInterrupt, Exception) as exc:
        return report_error(exc, log_file)
    return int(result or 0)


def report_error(exc: BaseException, log_file: Path | None) -> int:
    """Log `exc` as one line (traceback to the log file only) and return its exit code (errors.py)."""
    from darts_core.errors import DartsError, SignalInterruptError

    logger.debug("traceback", exc_info=exc)
    if isinstance(exc, KeyboardInterrupt):
        logger.error("interrupted by SIGINT")
        return EXIT_INTERRUPTED
    if isinstance(exc, SignalInterruptError):
        logger.error("%s", _one_line(exc))
        return exc.exit_code
    if isinstance(exc, ValidationError):
        logger.error("invalid %s: %s", exc.title, _validation_line(exc))
        return EXIT_USAGE
    if isinstance(exc, USAGE_ERRORS):
        logger.error("%s", _one_line(exc))
        return EXIT_USAGE
    if isinstance(exc, DartsError):
        logger.error("%s", _one_line(exc))
        return EXIT_ERROR
    where = f" (traceback in {log_file})" if log_file else ""
    logger.error("unexpected %s: %s%s", type(exc).__name__, _one_line(exc), where)
    return EXIT_UNEXPECTED


def _validation_line(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        loc = ".".join(str(part) for part in error.get("loc", ())) or "value"
        parts.append(f"{loc}: {error['msg']} (got {error.get('input')!r})")
    return "; ".join(parts)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _log_dir_of(tokens: Sequence[str]) -> Path:
    """The --log-dir of `tokens` when cyclopts could not parse them."""
    for index, token in enumerate(tokens):
        if token.startswith("--log-dir="):
            return Path(token.split("=", 1)[1])
        if token == "--log-dir" and index + 1 < len(tokens):
            return Path(tokens[index + 1])
    return Path(os.environ.get("DARTS_LOG_DIR", "logs"))


def main(argv: Sequence[str] | None = None, commands: Sequence[CommandInfo] = COMMANDS) -> None:
    """Entry point of `darts`: run the command in `argv` and exit with its code."""
    app = build_app(commands)
    tokens = list(sys.argv[1:] if argv is None else argv)
    previous = _raise_on_sigterm()
    try:
        code = app.meta(tokens, exit_on_error=False, result_action="return_value")
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    except CycloptsError as exc:
        app.error_console.print(f"[red]error:[/red] {_one_line(exc)}")
        code = EXIT_USAGE
    except Exception as exc:  # before the launcher runs, e.g. a command module that fails to import
        with command_logging(_log_dir_of(tokens), "darts", verbose="-v" in tokens) as log_file:
            code = report_error(exc, log_file)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    sys.exit(code if isinstance(code, int) else 0)


def _raise_on_sigterm() -> Any:
    """SIGTERM raises SignalInterruptError (exit 143 with a message), as SIGINT raises KeyboardInterrupt.

    Commands that stop more gracefully (train-smp, optuna-sweep-smp) set their own handler while they run.
    Returns the previous handler (None outside the main thread, where none can be set).
    """
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, _frame: Any) -> None:
        from darts_core.errors import SignalInterruptError

        raise SignalInterruptError(signum)

    return signal.signal(signal.SIGTERM, handler)
