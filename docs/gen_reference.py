"""Generate the reference pages of the docs from the code: configuration keys, CLI help, bands.

Run by the mkdocs hook ``docs/hooks/generate_reference.py`` on every build (so the pages always
describe the checkout being built), and by ``tests/test_docs.py``. Standalone:
``uv run python docs/gen_reference.py OUT_DIR`` writes the generated pages to OUT_DIR for a look.

Config models are imported as they appear in the packages; a listed model that cannot be imported
fails the build with its name.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import os
import sys
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from io import StringIO
from pathlib import Path
from typing import Any

# Library models whose keys reach a command through a parent config (documented for Python users).
LIBRARY_MODELS: tuple[str, ...] = (
    "darts_preprocess:PlanetPreprocessConfig",
    "darts_preprocess:S2PreprocessConfig",
    "darts_dataset:DataModuleConfig",
    "darts_dataset:AugmentConfig",
    "darts_models:DeployableModelConfig",
    "darts_train:TrainConfig",
    "darts_train:TestConfig",
    "darts_train:ConvertConfig",
    "darts_sweep:SweepConfig",
)


def resolve(spec: str) -> Any:
    """Import ``module:attr.path``; raise LookupError naming ``spec`` if it does not exist."""
    module_name, _, attr_path = spec.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as err:
        raise LookupError(
            f"docs reference {spec!r}: module {module_name} cannot be imported ({err})"
        ) from err
    for part in filter(None, attr_path.split(".")):
        obj = getattr(obj, part, None)
        if obj is None:
            # a submodule not imported by the package's __init__
            try:
                obj = importlib.import_module(f"{module_name}.{part}")
            except ImportError as err:
                raise LookupError(f"docs reference {spec!r}: {part} not found in {module_name}") from err
            module_name = f"{module_name}.{part}"
    return obj


def format_type(annotation: Any) -> str:
    """A short, readable rendering of a type annotation."""
    if annotation is None or annotation is type(None):
        return "None"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return format_type(args[0])
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(format_type(a) for a in args)
    if origin in (tuple, list) and len(args) == 2 and args[1] is Ellipsis:
        return f"list[{format_type(args[0])}]"  # a TOML array either way
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(format_type(a) for a in args)}]" if args else name
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def format_default(info: Any) -> str:
    """The default of a pydantic FieldInfo, as TOML-ish text."""
    if info.is_required():
        return "*required*"
    value = info.get_default(call_default_factory=True)
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value is None:
        return "—"
    if isinstance(value, tuple):
        value = list(value)
    return f"`{value!r}`" if not isinstance(value, str) else f'`"{value}"`'


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and hasattr(annotation, "model_fields")


def _model_name(annotation: Any) -> str | None:
    """The name of the pydantic model inside an annotation (``AugmentConfig | None``), if any."""
    candidates = [annotation, *typing.get_args(annotation)]
    return next((c.__name__ for c in candidates if _is_model(c)), None)


@dataclass(frozen=True)
class Key:
    """One key of a command's settings model."""

    name: str
    type: str
    default: str
    description: str
    aliases: tuple[str, ...] = ()


def _aliases(name: str, info: Any) -> tuple[str, ...]:
    keys = resolve("darts_cli.settings:field_keys")
    return tuple(sorted(k.replace("_", "-") for k in keys(name, info) if k != name.lower()))


def model_keys(model: Any) -> Iterator[Key]:
    """The keys of a settings model: one per field (a nested model is one TOML table)."""
    for name, info in model.model_fields.items():
        description = " ".join((info.description or "").split())
        nested = _model_name(info.annotation)
        if nested:
            description += f" A table; its fields: see `{nested}` below."
        yield Key(
            name.replace("_", "-"),
            format_type(info.annotation),
            format_default(info),
            description.strip(),
            _aliases(name, info),
        )


@dataclass
class KeyUse:
    """A key with one (type, default, description) signature and the commands that use it so."""

    key: Key
    commands: list[str] = field(default_factory=list)


def command_models() -> dict[str, Any | None]:
    """Every ``darts`` command (registry order) and its settings model (None: it takes no settings)."""
    registry = resolve("darts_cli.registry")
    models = registry.settings_models()
    return {info.name: models.get(info.name) for info in registry.COMMANDS}


def collect_keys() -> tuple[dict[str, list[KeyUse]], dict[str, Any | None]]:
    """All keys by name (each with its variants), and the settings model of each command."""
    by_name: dict[str, list[KeyUse]] = {}
    models = command_models()
    for command, model in models.items():
        for key in model_keys(model) if model is not None else ():
            uses = by_name.setdefault(key.name, [])
            match = next((u for u in uses if u.key == key), None)
            if match is None:
                uses.append(KeyUse(key, [command]))
            elif command not in match.commands:
                match.commands.append(command)
    return by_name, models


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or "—"


def _model_label(model: Any) -> str:
    return f"`{model.__module__}.{model.__qualname__}`"


def config_keys_page() -> str:
    """The configuration key reference, generated from the commands' settings models."""
    by_name, models = collect_keys()
    lines = [
        "# Configuration keys",
        "",
        "Generated from the typed settings models of the `darts` commands when this site was built.",
        "Every key can be written in `config.toml` under `[darts]` (in any sub-table), given as a",
        "command-line option (`--key`) or as an environment variable (`DARTS_KEY`: upper case,",
        "underscores). In the file, dashes and underscores are interchangeable, and the keys listed",
        "as *also* are accepted too. See [the configuration file](configuration.md) for the rules.",
        "",
        "| Command | Settings model |",
        "|---------|----------------|",
    ]
    for command, model in models.items():
        label = _model_label(model) if model is not None else "none (no settings)"
        lines.append(f"| [`{command}`](cli.md#{command}) | {label} |")
    lines += [
        "",
        "## All keys",
        "",
        "| Key | Type | Default | Used by | Description |",
        "|---|---|---|---|---|",
    ]
    for name in sorted(by_name):
        for i, use in enumerate(by_name[name]):
            k = use.key
            used_by = ", ".join(f"`{c}`" for c in use.commands)
            also = f" *Also:* {', '.join(f'`{a}`' for a in k.aliases)}." if k.aliases else ""
            key = f"`{name}`" if i == 0 else "〃"
            cells = [key, _cell(k.type), _cell(k.default), used_by, _cell(k.description + also)]
            lines.append(_row(cells))
    lines += ["", *_library_models_section()]
    return "\n".join(lines) + "\n"


def _library_models_section() -> list[str]:
    lines = ["## Library configuration models", "", "The typed models library functions take (Python API)."]
    for spec in LIBRARY_MODELS:
        model = resolve(spec)
        lines += ["", f"### `{spec.split(':')[1]}`", ""]
        if not _is_model(model):
            raise LookupError(f"docs reference {spec!r} is not a pydantic model")
        doc = (inspect.getdoc(model) or "").split("\n\n")[0].replace("\n", " ")
        lines += [f"{_model_label(model)}: {doc}", "", _row(["Field", "Type", "Default", "Description"])]
        lines.append(_row(["---"] * 4))
        for name, info in model.model_fields.items():
            desc = " ".join((info.description or "").split())
            kind, default = _cell(format_type(info.annotation)), _cell(format_default(info))
            lines.append(_row([f"`{name}`", kind, default, _cell(desc)]))
    return lines


def _help_text(argv: list[str]) -> str:
    """What ``darts ARGV --help`` prints, 100 columns wide, without colours."""
    main = resolve("darts_cli.app:main")
    buf = StringIO()
    old_columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):
            main([*argv, "--help"])
    finally:
        if old_columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old_columns
    return "\n".join(line.rstrip() for line in buf.getvalue().strip().splitlines())


def cli_page() -> str:
    """The command-line reference: the help text of ``darts`` and of every command."""
    lines = ["# Command line", "", "Generated from the `darts` application when this site was built.", ""]
    registry = resolve("darts_cli.registry")
    lines += ["```text", _help_text([]), "```", ""]
    for info in registry.COMMANDS:
        lines += [f"## {info.name}", "", info.help, "", "```text", _help_text([info.name]), "```", ""]
    return "\n".join(lines)


def bands_table() -> str:
    """The band registry as a Markdown table."""
    from darts_core.bands import BANDS

    header = ["Band", "Kind", "Physical value", "Encoding", "Norm factor", "Encoded range → [0, 1]"]
    lines = [_row(header), _row(["---"] * len(header))]
    for spec in BANDS.values():
        encoding = "none (value as is)" if spec.encoding in ("dn", "degrees") else f"`{spec.encoding}`"
        full_scale = 1 / spec.norm_factor
        lines.append(
            f"| `{spec.name}` | {spec.kind.value} | {spec.unit} | {encoding} | "
            f"1/{full_scale:g} | 0 … {full_scale:g} |"
        )
    return "\n".join(lines)


GENERATED_PAGES = {
    "reference/config-keys.md": config_keys_page,
    "reference/cli.md": cli_page,
}
MARKERS = {"<!-- darts:bands-table -->": bands_table}


def main(argv: list[str]) -> int:
    """Write the generated pages into the folder given as the only argument."""
    if len(argv) != 1:
        sys.stderr.write("usage: python docs/gen_reference.py OUT_DIR\n")
        return 2
    out = Path(argv[0])
    for rel, make in GENERATED_PAGES.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
