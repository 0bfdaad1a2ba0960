"""The config file: read the `[darts]` table of a TOML file and flatten it to leaf keys.

`load_config_file` is the only function in darts that opens a config file. Sub-tables only group
keys, so they are flattened (a sub-table named like a table-valued field stays one value); keys
compare with dashes or underscores alike; the same leaf key twice with different values warns
and the last one wins. `KnownKeys` holds the keys all commands know, to warn about the others.
"""

from __future__ import annotations

import difflib
import logging
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, AliasPath, BaseModel
from pydantic.fields import FieldInfo

from darts_cli.errors import ConfigError, ConfigFileNotFoundError
from darts_core.trainset_keys import RECORD_KEYS

logger = logging.getLogger(__name__)

ROOT_TABLE = "darts"


def normalize_key(key: str) -> str:
    """The form in which keys are compared: lower case, dashes as underscores."""
    return key.strip().lower().replace("-", "_")


@dataclass(frozen=True)
class FileEntry:
    """One leaf key of the `[darts]` table."""

    key: str
    """The key as written in the file (`n-trials`)."""
    table: str
    """The table it sits in (`darts.sweep`)."""
    value: Any

    def where(self, path: Path | None) -> str:
        return f"key '{self.key}' in [{self.table}] of {path}"


@dataclass(frozen=True)
class ConfigFile:
    """The flattened `[darts]` table of a config file."""

    path: Path | None
    """The file read; None when the default file does not exist."""
    entries: dict[str, FileEntry] = field(default_factory=dict)
    """Leaf entries by normalised key."""


def load_config_file(
    path: Path, *, explicit: bool, table_keys: Iterable[str] = (), named_by: str = "--config-file"
) -> ConfigFile:
    """Read and flatten the `[darts]` table of `path`; the only function that opens the TOML file.

    Args:
        path: The config file.
        explicit: True when the user named the file (then it must exist).
        named_by: What named it (``--config-file`` or ``DARTS_CONFIG_FILE``), for messages.
        table_keys: Normalised keys whose value is a table (kept whole, not flattened).
    """
    path = path.expanduser()
    if not path.is_file():
        if explicit:
            raise ConfigFileNotFoundError(f"config file {path} does not exist (named with {named_by})")
        return ConfigFile(None, {})
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}{_named(explicit, named_by)}: TOML syntax error: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}{_named(explicit, named_by)}: cannot read the config file: {exc}") from None
    root = data.get(ROOT_TABLE)
    if not isinstance(root, dict):
        found = "is not a table" if root is not None else "is missing"
        raise ConfigError(
            f"{path}: the [{ROOT_TABLE}] table {found}; darts reads only keys under [{ROOT_TABLE}] "
            f"(sub-tables such as [{ROOT_TABLE}.training] are fine)"
        )
    entries: dict[str, FileEntry] = {}
    _flatten(root, ROOT_TABLE, path, frozenset(table_keys), entries)
    return ConfigFile(path, entries)


def _named(explicit: bool, named_by: str) -> str:
    return f" (named with {named_by})" if explicit else ""


def _flatten(
    table: dict, name: str, path: Path, table_keys: frozenset[str], out: dict[str, FileEntry]
) -> None:
    for key, value in table.items():
        norm = normalize_key(key)
        if isinstance(value, dict) and norm not in table_keys:
            _flatten(value, f"{name}.{key}", path, table_keys, out)
            continue
        entry = FileEntry(key, name, value)
        previous = out.get(norm)
        if previous is not None and previous.value != value:
            logger.warning(
                "%s: key '%s' is set twice with different values: %r in [%s] and %r in [%s]; "
                "using the last (%r)",
                path,
                norm,
                previous.value,
                previous.table,
                value,
                name,
                value,
            )
        out[norm] = entry


def field_keys(name: str, info: FieldInfo) -> set[str]:
    """Normalised keys that set a field: its name and its string aliases."""
    keys = {normalize_key(name)}
    for alias in (info.alias, info.validation_alias):
        if isinstance(alias, str):
            keys.add(normalize_key(alias))
        elif isinstance(alias, AliasChoices):
            keys.update(normalize_key(c) for c in alias.choices if isinstance(c, str))
        elif isinstance(alias, AliasPath) and len(alias.path) == 1 and isinstance(alias.path[0], str):
            keys.add(normalize_key(alias.path[0]))
    return keys


def is_table_type(annotation: Any) -> bool:
    """True for dict/Mapping/BaseModel annotations (a TOML table is one value of such a field)."""
    for arg in flat_args(annotation):
        origin = typing.get_origin(arg) or arg
        if isinstance(origin, type) and (issubclass(origin, Mapping) or issubclass(origin, BaseModel)):
            return True
    return False


def flat_args(annotation: Any) -> list[Any]:
    """An annotation with Optional/Union/Annotated unwrapped into its member types."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return flat_args(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return [a for arg in typing.get_args(annotation) for a in flat_args(arg)]
    return [annotation]


@dataclass(frozen=True)
class KnownKeys:
    """The keys that some command knows, from the settings models of all commands."""

    keys: dict[str, str]
    """Normalised key -> the field name shown in suggestions."""
    table_keys: frozenset[str]

    @classmethod
    def from_models(cls, models: Iterable[type[BaseModel]]) -> KnownKeys:
        keys: dict[str, str] = {}
        tables: set[str] = set()
        for model in models:
            for name, info in model.model_fields.items():
                for key in field_keys(name, info):
                    keys.setdefault(key, name)
                    if is_table_type(info.annotation):
                        tables.add(key)
        # A training set's config.toml can be fed back: its record-only keys are known, kept whole.
        for key in RECORD_KEYS:
            keys.setdefault(normalize_key(key), key)
            tables.add(normalize_key(key))
        return cls(keys, frozenset(tables))

    def warn_unknown(self, config: ConfigFile) -> list[str]:
        """Warn once per key of `config` that no command knows; returns the unknown keys."""
        unknown = [norm for norm in config.entries if norm not in self.keys]
        for norm in unknown:
            entry = config.entries[norm]
            close = difflib.get_close_matches(norm, list(self.keys), n=1, cutoff=0.6)
            hint = f"; did you mean '{self.keys[close[0]]}'?" if close else ""
            logger.warning(
                "%s: unknown key '%s' in [%s], ignored%s", config.path, entry.key, entry.table, hint
            )
        return unknown

    def warn_unknown_env(
        self, environ: Mapping[str, str], prefix: str, extra: Iterable[str] = ()
    ) -> list[str]:
        """Warn once per `<prefix>*` variable of `environ` whose key no command knows; returns them."""
        allowed = set(self.keys) | {normalize_key(key) for key in extra}
        unknown = []
        for name in sorted(environ):
            if not name.upper().startswith(prefix.upper()):
                continue
            key = normalize_key(name[len(prefix) :])
            if key in allowed:
                continue
            unknown.append(name)
            close = difflib.get_close_matches(key, list(self.keys), n=1, cutoff=0.6)
            hint = f"; did you mean {prefix}{close[0].upper()}?" if close else ""
            logger.warning("environment variable %s: unknown key '%s', ignored%s", name, key, hint)
        return unknown
