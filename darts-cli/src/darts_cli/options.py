"""Turn a library's pydantic config model into the options of a `darts` command.

`darts_command(Model)` wraps `def cmd(config: Model) -> int` into a cyclopts command whose keyword
options are the model's fields (`batch_size` -> `--batch-size`, help = the field docstring). Every
option defaults to "not given", so that `build_config` can apply the precedence
option > `DARTS_*` environment > config file > model default.
"""

from __future__ import annotations

import inspect
import json
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from cyclopts import Parameter
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from darts_cli.configfile import flat_args, is_table_type
from darts_cli.errors import ConfigError
from darts_cli.settings import RunContext, build_config
from darts_core.renamed_keys import deprecated_keys

CommandFunc = Callable[..., int]


def _option_type(annotation: Any) -> tuple[Any, bool]:
    """The cyclopts type of an option and whether it is JSON text (tables, nested models)."""
    if is_table_type(annotation) or len([a for a in flat_args(annotation) if a is not type(None)]) > 1:
        return str | None, True
    return annotation | None, False


def _help(info: Any) -> str:
    text = (info.description or "").strip()
    if info.default is not PydanticUndefined:
        shown = str(info.default) if isinstance(info.default, Path) else repr(info.default)
        text = f"{text} [default: {shown}]".strip()
    elif info.default_factory is not None:
        text = f"{text} [default: computed]".strip()
    else:
        text = f"{text} [required]".strip()
    return text


def _parameters(model: type[BaseModel]) -> tuple[list[inspect.Parameter], set[str]]:
    params = []
    json_fields = set()
    renamed: dict[str, list[str]] = {}
    for old, new in deprecated_keys(model).items():
        renamed.setdefault(new, []).append(old)  # the former option keeps working on the command line
    for name, info in model.model_fields.items():
        option_type, is_json = _option_type(info.annotation)
        if is_json:
            json_fields.add(name)
        is_list = any(typing.get_origin(a) in (list, tuple, set) for a in flat_args(info.annotation))
        names = [
            f"--{name.replace('_', '-')}",
            *(f"--{old.replace('_', '-')}" for old in renamed.get(name, ())),
        ]
        meta = Parameter(name=names, help=_help(info) + (" (JSON)" if is_json else ""), show_default=False)
        if is_list:
            meta = Parameter(name=names, help=_help(info), show_default=False, consume_multiple=True)
            if is_json:  # e.g. devices: `--devices 0 1` or `--devices '[0, 1]'` or `--devices cpu`
                option_type = list[str] | None
        params.append(
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[option_type, meta]
            )
        )
    return params, json_fields


def darts_command(model: type[BaseModel] | None = None) -> Callable[[CommandFunc], CommandFunc]:
    """Make a `darts` command from `func(config: model) -> int` (or `func() -> int` without a model).

    The returned function has one keyword option per model field plus a hidden `ctx` that the
    launcher fills; it builds the merged config and calls `func` with it.
    """

    def decorate(func: CommandFunc) -> CommandFunc:
        params, json_fields = _parameters(model) if model is not None else ([], set())
        params.append(
            inspect.Parameter(
                "ctx",
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[RunContext | None, Parameter(parse=False)],
            )
        )

        def command(**kwargs: Any) -> int:
            ctx = kwargs.pop("ctx", None) or RunContext(command=func.__name__)
            if model is None:
                ctx.config()  # a named config file must exist and its keys are checked for every command
                return func()
            cli_values = {
                name: _decode(name, value, json_fields) for name, value in kwargs.items() if value is not None
            }
            return func(build_config(model, cli_values, ctx))

        command.__signature__ = inspect.Signature(params, return_annotation=int)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params} | {"return": int}
        command.__name__ = func.__name__
        command.__qualname__ = func.__qualname__
        command.__module__ = func.__module__
        command.__doc__ = inspect.getdoc(func)
        command.__darts_settings__ = model  # type: ignore[attr-defined]
        command.__wrapped_command__ = func  # type: ignore[attr-defined]
        return command

    return decorate


def _decode(name: str, value: Any, json_fields: set[str]) -> Any:
    if name in json_fields and isinstance(value, list):  # a list-or-scalar option given as tokens
        if len(value) == 1:
            return _decode(name, value[0], json_fields)
        return [_decode(name, token, json_fields) for token in value]
    if name not in json_fields or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        if value.startswith(("{", "[")):
            raise ConfigError(f"option --{name.replace('_', '-')}: {value!r} is not valid JSON") from None
        return value
