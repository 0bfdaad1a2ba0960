"""The `darts` command-line application: global options, lazy commands, logging and exit codes."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated

from cyclopts import App, Parameter
from pydantic import ValidationError

from darts_cli.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE, USAGE_ERRORS
from darts_cli.logs import command_logging
from darts_cli.registry import COMMANDS, CommandInfo
from darts_cli.settings import DEFAULT_CONFIG_FILE, RunContext

logger = logging.getLogger("darts_cli")


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
        config_file: Annotated[Path | None, Parameter(env_var="DARTS_CONFIG_FILE")] = None,
        log_dir: Annotated[Path, Parameter(env_var="DARTS_LOG_DIR")] = Path("logs"),
        verbose: Annotated[bool, Parameter(alias="-v")] = False,
    ) -> int:
        """Run a darts command.

        Parameters
        ----------
        config_file
            TOML file whose [darts] table sets options (default: ./config.toml if it exists).
        log_dir
            Folder for the log file of each command run (with the traceback of any error).
        verbose
            Show debug messages.
        """
        command, bound, ignored = app.parse_args(tokens, exit_on_error=False, print_error=False)
        name = getattr(command, "__name__", "darts").replace("_", "-")
        ctx = RunContext(
            command=name,
            config_file=config_file or DEFAULT_CONFIG_FILE,
            config_file_explicit=config_file is not None,
            known_models=_models_of(commands) if commands is not COMMANDS else None,
        )
        if "ctx" in ignored:
            bound.arguments["ctx"] = ctx
        with command_logging(log_dir, name, verbose=verbose) as log_file:
            logger.debug("darts %s (log file %s)", " ".join(tokens), log_file)
            return _run(command, bound, log_file)

    return app


def _models_of(commands: Sequence[CommandInfo]) -> tuple:
    from darts_cli.registry import settings_models

    return tuple(settings_models(commands).values())


def _run(command, bound, log_file: Path | None) -> int:
    where = f" (details in {log_file})" if log_file else ""
    try:
        result = command(*bound.args, **bound.kwargs)
    except KeyboardInterrupt:
        logger.error("interrupted")
        return EXIT_INTERRUPTED
    except (*USAGE_ERRORS, ValidationError) as exc:
        logger.error("%s", _one_line(exc))
        logger.debug("traceback", exc_info=True)
        return EXIT_USAGE
    except Exception as exc:
        from darts_preprocess.errors import DartsError

        if isinstance(exc, DartsError):
            logger.error("%s", _one_line(exc))
            logger.debug("traceback", exc_info=True)
            return EXIT_ERROR
        logger.error("unexpected %s: %s%s", type(exc).__name__, _one_line(exc), where)
        logger.debug("traceback", exc_info=True)
        return EXIT_ERROR
    return int(result or 0)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv: Sequence[str] | None = None, commands: Sequence[CommandInfo] = COMMANDS) -> None:
    """Entry point of `darts`: run the command in `argv` and exit with its code."""
    from cyclopts import CycloptsError

    app = build_app(commands)
    tokens = list(sys.argv[1:] if argv is None else argv)
    try:
        code = app.meta(tokens, exit_on_error=False, result_action="return_value")
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    except CycloptsError as exc:
        app.error_console.print(f"[red]error:[/red] {_one_line(exc)}")
        code = EXIT_USAGE
    sys.exit(code if isinstance(code, int) else 0)
