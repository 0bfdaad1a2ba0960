"""Generate the reference pages of the docs from the code: configuration keys, CLI help, bands, status.

Run by the mkdocs hook ``docs/hooks/generate_reference.py`` on every build (so the pages always
describe the checkout being built), and by ``tests/test_docs.py``. Standalone:
``uv run python docs/gen_reference.py OUT_DIR`` writes the generated pages to OUT_DIR for a look.

Config models are imported as they appear in the packages; a model or command that does not exist
yet is listed as "not built yet" instead of failing the build.
"""

from __future__ import annotations

import ast
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
# Public API promised by the package contracts (HELPERS.md), for the status page.
CONTRACT_API: dict[str, tuple[str, ...]] = {
    "darts_preprocess": (
        "bands.normalize_bands",
        "trainset_layout.SplitWriter",
        "sources.discover_planet_scenes",
        "sources.load_planet_scene",
        "sources.discover_s2_scenes",
        "sources.load_s2_scene",
        "sources.load_arcticdem",
        "sources.load_tcvis",
        "engineer_bands",
        "sources.load_admin_regions",
        "generate_planet_collection",
        "PlanetPreprocessConfig",
        "S2PreprocessConfig",
        "preprocess_planet_train_data",
        "preprocess_s2_train_data",
    ),
    "darts_dataset": (
        "TrainingSet",
        "PatchDataset",
        "InMemoryPatchDataset",
        "AugmentConfig",
        "make_folds",
        "validate_train_data",
        "DataModuleConfig",
        "DartsDataModule",
    ),
    "darts_models": (
        "build_model",
        "FocalLoss",
        "build_pixel_metrics",
        "object_metrics",
        "boundary_iou",
        "DeployableModelConfig",
        "save_deployable_checkpoint",
        "load_deployable_checkpoint",
        "segment_scene",
    ),
    "darts_train": (
        "TrainConfig",
        "train_smp",
        "TestConfig",
        "test_smp",
        "ConvertConfig",
        "convert_lightning_checkpoint",
    ),
    "darts_sweep": ("parse_sweep_file", "SweepConfig", "optuna_sweep_smp", "sweep_report"),
    "darts_cli": ("app.main", "settings.build_config", "quickstart.run_quickstart"),
}
NOT_BUILT = "*not built yet*"


def resolve(spec: str) -> Any | None:
    """Import ``module:attr.path`` (or ``module.attr.path`` for :func:`api_status`); None if absent."""
    module_name, _, attr_path = spec.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError:
        return None
    for part in filter(None, attr_path.split(".")):
        obj = getattr(obj, part, None)
        if obj is None:
            # a submodule not imported by the package's __init__
            try:
                obj = importlib.import_module(f"{module_name}.{part}")
            except ImportError:
                return None
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
    if keys is None:
        return ()
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
    """Every ``darts`` command (registry order) and its settings model (None: none or not built)."""
    registry = resolve("darts_cli.registry")
    if registry is None:
        return {}
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
    if not models:
        lines.append(f"| `darts` | {NOT_BUILT} |")
    for command, model in models.items():
        label = _model_label(model) if model is not None else "none (no settings, or not built yet)"
        lines.append(f"| [`{command}`](cli.md#{command}) | {label} |")
    lines += ["", "## All keys", ""]
    if not by_name:
        lines += [f"No command declares a settings model yet ({NOT_BUILT}).", ""]
    else:
        lines += ["| Key | Type | Default | Used by | Description |", "|---|---|---|---|---|"]
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
            lines.append(f"`{spec.replace(':', '.')}`: {NOT_BUILT}")
            continue
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
    if resolve("darts_cli.app:main") is None or registry is None:
        return "\n".join([*lines, f"The `darts` application is {NOT_BUILT}.", ""])
    lines += ["```text", _help_text([]), "```", ""]
    for info in registry.COMMANDS:
        lines += [f"## {info.name}", "", info.help, "", "```text", _help_text([info.name]), "```", ""]
    return "\n".join(lines)


def _defines(module_name: str, name: str) -> bool:
    """True if ``module_name``'s source defines ``name`` at top level (read, not imported)."""
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return False
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return False
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name == name:
            return True
        if isinstance(node, ast.ImportFrom) and any((a.asname or a.name) == name for a in node.names):
            return True
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
    return False


def is_present(package: str, name: str) -> bool:
    """Whether ``package.name`` exists, without importing heavy (lazily exported) modules.

    Names a package exports lazily (PEP 562 ``_LAZY`` table) are checked in their module's source;
    ``module.attr`` names are checked in the submodule's source.
    """
    try:
        pkg = importlib.import_module(package)
    except ImportError:
        return False
    head, _, attr = name.rpartition(".")
    if head:
        return _defines(f"{package}.{head}", attr)
    lazy = getattr(pkg, "_LAZY", {})
    if name in lazy:
        module = lazy[name] if lazy[name].startswith(package) else f"{package}.{lazy[name]}"
        return _defines(module, name)
    return name in vars(pkg) or _defines(f"{package}.{name}", name) or _submodule(package, name)


def _submodule(package: str, name: str) -> bool:
    try:
        return importlib.util.find_spec(f"{package}.{name}") is not None
    except (ImportError, ValueError):
        return False


def api_status() -> list[tuple[str, str, bool]]:
    """(package, name, present) for every name the package contracts promise."""
    return [(pkg, name, is_present(pkg, name)) for pkg, names in CONTRACT_API.items() for name in names]


def status_page() -> str:
    """Which parts of the public API this checkout provides."""
    rows = api_status()
    done = sum(present for _, _, present in rows)
    lines = [
        "# Implementation status",
        "",
        f"Generated when this site was built: {done} of {len(rows)} public names of the package",
        "contracts are importable in this checkout. A command whose library is missing stops with",
        "a clear message; `darts quickstart` stops at the first step that needs it.",
        "",
        "| Package | Name | Present |",
        "|---------|------|---------|",
    ]
    lines += [f"| `{pkg}` | `{name}` | {'yes' if ok else 'no'} |" for pkg, name, ok in rows]
    return "\n".join(lines) + "\n"


def bands_table() -> str:
    """The band registry as a Markdown table."""
    from darts_preprocess.bands import BANDS

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
    "reference/status.md": status_page,
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
