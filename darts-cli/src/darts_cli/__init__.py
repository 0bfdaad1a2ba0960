"""darts_cli: the `darts` command-line application and its settings layer."""

from darts_cli.app import build_app, main
from darts_cli.errors import ConfigError, ConfigFileNotFoundError
from darts_cli.options import darts_command
from darts_cli.registry import COMMANDS, CommandInfo
from darts_cli.settings import RunContext, build_config, load_config_file

__all__ = [
    "COMMANDS",
    "CommandInfo",
    "ConfigError",
    "ConfigFileNotFoundError",
    "RunContext",
    "build_app",
    "build_config",
    "darts_command",
    "load_config_file",
    "main",
]
