"""The darts settings layer: config file + `DARTS_*` environment + options -> a library's typed config.

Semantics (documented for users in docs/reference/configuration.md):

- Only the top-level `[darts]` table of the TOML file is read. Its sub-tables only group keys: they
  are flattened to their leaf keys (a sub-table whose name is itself a known table-valued key, such
  as `norm_factors`, stays one value). Keys match with dashes or underscores alike.
- Precedence: command-line option > environment (`DARTS_<KEY>`: the field name or one of its
  aliases, upper case) > config file > default.
- Default file `config.toml` in the working directory (missing is fine); `--config-file` names
  another (missing is an error).
- Keys no command knows (in the file or as `DARTS_*` variables): one warning each, with the
  closest known key. The same leaf key in two
  sub-tables with different values: a warning, the last one wins.
- A file without `[darts]`, a TOML syntax error or a value of the wrong type: `ConfigError` naming
  file (or variable or option), key, value and the expected type; the CLI exits with code 2.
- Relative paths resolve against the working directory.

`darts_cli.configfile.load_config_file` is the only function that opens the TOML file (re-exported
here); `build_config` is what a command calls to get its model.
"""

from __future__ import annotations

import logging
import os
import re
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ValidationError, create_model
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from darts_cli.configfile import (
    ROOT_TABLE,
    ConfigFile,
    FileEntry,
    KnownKeys,
    field_keys,
    load_config_file,
    normalize_key,
)
from darts_cli.errors import ConfigError
from darts_core.renamed_keys import deprecated_keys

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

DEFAULT_CONFIG_FILE = Path("config.toml")
ENV_PREFIX = "DARTS_"
GLOBAL_ENV_KEYS = ("config_file", "log_dir")
"""Keys of the global options that `DARTS_*` variables set (read by the app, not by a command)."""

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "ENV_PREFIX",
    "GLOBAL_ENV_KEYS",
    "ConfigFile",
    "FileEntry",
    "KnownKeys",
    "RunContext",
    "build_config",
    "env_var_name",
    "load_config_file",
    "normalize_key",
    "resolve_relative_paths",
]


def env_var_name(field_name: str) -> str:
    """The environment variable that sets a field, e.g. `DARTS_BATCH_SIZE`."""
    return ENV_PREFIX + field_name.upper()


@dataclass
class RunContext:
    """What a command run knows besides its options: the config file and the other commands' keys."""

    command: str
    config_file: Path = DEFAULT_CONFIG_FILE
    config_file_explicit: bool = False
    config_file_named_by: str = "--config-file"
    """``--config-file`` or ``DARTS_CONFIG_FILE``: what named the file, for messages."""
    cwd: Path = field(default_factory=Path.cwd)
    known_models: Sequence[type[BaseModel]] | None = None
    """Settings models of all commands (None: import them from the registry when needed)."""
    _loaded: ConfigFile | None = field(default=None, init=False, repr=False)

    def config(self, model_cls: type[BaseModel] | None = None) -> ConfigFile:
        """The flattened config file, loaded (and checked for unknown keys) once per run."""
        if self._loaded is None:
            if self.known_models is None:
                from darts_cli.registry import settings_models

                self.known_models = tuple(settings_models().values())
            models = [*self.known_models, *([model_cls] if model_cls is not None else [])]
            known = KnownKeys.from_models(models)
            path = self.config_file if self.config_file.is_absolute() else self.cwd / self.config_file
            self._loaded = load_config_file(
                path,
                explicit=self.config_file_explicit,
                table_keys=known.table_keys,
                named_by=self.config_file_named_by,
            )
            known.warn_unknown(self._loaded)
            known.warn_unknown_env(os.environ, ENV_PREFIX, GLOBAL_ENV_KEYS)
        return self._loaded


class _DartsSettings(BaseSettings):
    """Base of the per-model settings classes: init (options) > environment > file."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, case_sensitive=False, extra="ignore", validate_default=False
    )
    darts_file_values: ClassVar[dict[str, Any]] = {}
    darts_cli_fields: ClassVar[frozenset[str]] = frozenset()
    darts_env_keys: ClassVar[dict[str, list[str]]] = {}
    """Field name -> the normalised keys (name and aliases) whose `DARTS_<KEY>` variable sets it."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        env = _EnvSource(settings_cls, cls.darts_cli_fields, cls.darts_env_keys)
        return init_settings, env, _FileSource(settings_cls, cls.darts_file_values)


class _EnvSource(EnvSettingsSource):
    """`DARTS_<KEY>` variables (the field name or an alias), except for fields given as options."""

    def __init__(
        self, settings_cls: type[BaseSettings], skip: frozenset[str], keys: Mapping[str, Sequence[str]]
    ) -> None:
        super().__init__(settings_cls)
        self._skip = skip
        self._keys = keys

    def _extract_field_info(
        self, field: FieldInfo, field_name: str, model_config: Mapping[str, Any] | None = None
    ) -> list[tuple[str, str, bool]]:
        info = super()._extract_field_info(field, field_name, model_config)
        is_complex = info[0][2] if info else False
        names = {env_name for _, env_name, _ in info}
        for key in self._keys.get(field_name, ()):
            env_name = self._apply_case_sensitive(env_var_name(key))
            if env_name not in names:
                info.append((field_name, env_name, is_complex))
        return info

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in super().__call__().items() if k not in self._skip}


class _FileSource(PydanticBaseSettingsSource):
    """The values the config file gives, already keyed by field name."""

    def __init__(self, settings_cls: type[BaseSettings], values: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._values = values

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._values)


def build_config(model_cls: type[M], cli_values: Mapping[str, Any], ctx: RunContext) -> M:
    """Merge options, `DARTS_*` environment, config file and defaults into `model_cls`.

    Args:
        model_cls: The library's pydantic config model.
        cli_values: Field name -> value of the options given on the command line (only those).
        ctx: The run context (config file, known keys, working directory).

    Raises:
        ConfigError: A value has the wrong type or a required setting is missing.
    """
    config = ctx.config(model_cls)
    file_values: dict[str, Any] = {}
    for name, info in model_cls.model_fields.items():
        own = normalize_key(name)
        for key in sorted(field_keys(name, info), key=lambda k: k == own):  # the field's own key wins
            if key in config.entries:
                file_values[name] = config.entries[key].value
    warn_deprecated_keys(model_cls, config, ctx.command)
    if config.path is not None and normalize_key("layout_version") in config.entries:
        # a training set's own config.toml records paths relative to its folder
        file_values = resolve_relative_paths(model_cls, _as_paths(model_cls, file_values), config.path.parent)
    sources = _Provenance(model_cls, cli_values, config)
    # a value from a higher source replaces the lower ones whole (tables are not merged)
    file_values = {k: v for k, v in file_values.items() if k not in cli_values and not sources.from_env(k)}
    settings_cls = create_model(  # type: ignore[call-overload]
        f"{model_cls.__name__}Settings",
        __base__=_DartsSettings,
        **{name: (info.annotation, None) for name, info in model_cls.model_fields.items()},
    )
    settings_cls.darts_file_values = file_values
    settings_cls.darts_cli_fields = frozenset(cli_values)
    fields = model_cls.model_fields
    settings_cls.darts_env_keys = {name: sorted(field_keys(name, info)) for name, info in fields.items()}
    try:
        settings = settings_cls(**cli_values)
    except ValidationError as exc:
        raise ConfigError(sources.describe(exc)) from None
    except SettingsError as exc:
        found = re.search(r'field "(\w+)"', str(exc))
        field_name = found.group(1) if found else None
        name = (sources.env_name(field_name) or env_var_name(field_name)) if field_name else f"{ENV_PREFIX}*"
        raise ConfigError(f"environment variable {name}: not valid JSON ({exc.__cause__ or exc})") from None
    values = {name: getattr(settings, name) for name in settings.model_fields_set}
    values = resolve_relative_paths(model_cls, values, ctx.cwd)
    try:
        return model_cls.model_validate(values, by_name=True)
    except ValidationError as exc:
        raise ConfigError(sources.describe(exc)) from None


def warn_deprecated_keys(model_cls: type[BaseModel], config: ConfigFile, command: str) -> list[str]:
    """Warn when the file or a `DARTS_*` variable sets a field by its former key; returns those keys."""
    used = []
    for old, name in deprecated_keys(model_cls).items():
        new = name.replace("_", "-")
        env = env_var_name(normalize_key(old))
        if normalize_key(old) in config.entries and normalize_key(name) not in config.entries:
            where = config.entries[normalize_key(old)].where(config.path)
        elif env in {k.upper() for k in os.environ} and env_var_name(name) not in os.environ:
            where = f"environment variable {env}"
        else:
            continue
        used.append(old)
        logger.warning(
            "%s: '%s' is deprecated; it sets '%s' of %s. Name it '%s' "
            "(preprocess-device, test-device and sweep-device are separate keys)",
            where,
            old,
            new,
            command,
            new,
        )
    return used


def _as_paths(model_cls: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    """Strings (and lists of strings) of path-typed fields as `Path` values."""
    out = dict(values)
    for name, value in values.items():
        if not _mentions_path(model_cls.model_fields[name].annotation):
            continue
        if isinstance(value, str):
            out[name] = Path(value)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[name] = [Path(v) for v in value]
    return out


def resolve_relative_paths(model_cls: type[BaseModel], values: dict[str, Any], cwd: Path) -> dict[str, Any]:
    """Make relative `Path` values of path-typed fields absolute against `cwd`."""

    def fix(value: Any) -> Any:
        if isinstance(value, Path):
            value = value.expanduser()
            return value if value.is_absolute() else cwd / value
        if isinstance(value, list | tuple):
            return type(value)(fix(v) for v in value)
        return value

    out = dict(values)
    for name, value in values.items():
        if _mentions_path(model_cls.model_fields[name].annotation):
            out[name] = fix(value)
    return out


def _mentions_path(annotation: Any) -> bool:
    if annotation is Path:
        return True
    return any(_mentions_path(arg) for arg in typing.get_args(annotation))


def type_name(annotation: Any) -> str:
    """A readable name of a type annotation (`int`, `list[str]`, `Path | None`)."""
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("pathlib.", "")


class _Provenance:
    """Says where each field's value came from, to name it in error messages."""

    def __init__(self, model_cls: type[BaseModel], cli_values: Mapping[str, Any], config: ConfigFile) -> None:
        self.model_cls = model_cls
        self.cli_values = cli_values
        self.config = config
        self.environ = {k.upper(): v for k, v in os.environ.items()}

    def env_name(self, name: str) -> str | None:
        """The `DARTS_*` variable that sets field `name` (its name or an alias), if one is set."""
        info = self.model_cls.model_fields.get(name)
        keys = [name, *sorted(field_keys(name, info) - {name})] if info is not None else [name]
        return next((env_var_name(k) for k in keys if env_var_name(k) in self.environ), None)

    def from_env(self, name: str) -> bool:
        return self.env_name(name) is not None

    def where(self, name: str) -> str:
        if name in self.cli_values:
            return f"option --{name.replace('_', '-')}"
        env = self.env_name(name)
        if env is not None:
            return f"environment variable {env}"
        info = self.model_cls.model_fields.get(name)
        for key in field_keys(name, info) if info is not None else ():
            if key in self.config.entries:
                return self.config.entries[key].where(self.config.path)
        return f"setting '{name}'"

    def describe(self, exc: ValidationError) -> str:
        """One line per error: where, key, value, expected type and pydantic's reason."""
        messages = []
        for error in exc.errors():
            loc = error.get("loc") or ()
            name = str(loc[0]) if loc else ""
            info = self.model_cls.model_fields.get(name)
            if info is None:
                messages.append(f"{self.model_cls.__name__}: {error['msg']}")
                continue
            expected = type_name(info.annotation)
            if error["type"] == "missing":
                dashed = name.replace("_", "-")
                messages.append(
                    f"missing required setting '{name}' ({expected}): give --{dashed}, "
                    f"{env_var_name(name)} or '{dashed}' under [{ROOT_TABLE}] in the config file"
                )
                continue
            sub = "".join(f"[{part}]" for part in loc[1:])
            value = error["input"]
            messages.append(
                f"{self.where(name)}{sub}: invalid value {value!r}, expected {expected} ({error['msg']})"
            )
        return "; ".join(messages)
