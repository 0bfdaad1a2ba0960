"""Config keys that were renamed: the old key still works, with a deprecation warning.

A field declared with :func:`renamed_field` accepts its old key (in Python, the config file and
the ``DARTS_*`` environment) and records the old key under ``json_schema_extra["deprecated_keys"]``,
where the command line's settings layer finds it to warn about the file and the environment.
Call :func:`warn_renamed_keys` from a ``mode="before"`` model validator for Python callers.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from typing import Any

from pydantic import AliasChoices, BaseModel, Field

logger = logging.getLogger(__name__)

DEPRECATED_KEYS = "deprecated_keys"
"""The ``json_schema_extra`` entry listing a field's old keys."""


def renamed_field(name: str, old: str, default: Any) -> Any:
    """A pydantic ``Field`` named ``name`` that also accepts its former key ``old``."""
    return Field(
        default=default,
        validation_alias=AliasChoices(name, old),
        json_schema_extra={DEPRECATED_KEYS: [old]},
    )


def deprecated_keys(model: type[BaseModel]) -> dict[str, str]:
    """Old key -> field name, for every renamed field of ``model``."""
    out: dict[str, str] = {}
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        olds = extra.get(DEPRECATED_KEYS)
        for old in olds if isinstance(olds, list) else ():
            out[str(old)] = name
    return out


def warn_renamed_keys(model: type[BaseModel], data: Any) -> None:
    """Warn (DeprecationWarning and log) for each old key that ``data`` uses."""
    if not isinstance(data, Mapping):
        return
    for old, name in deprecated_keys(model).items():
        if old in data and name not in data:
            message = (
                f"{model.__name__}: '{old}' is deprecated; it now sets '{name}' "
                f"(key {name.replace('_', '-')}), since several commands read '{old}'"
            )
            warnings.warn(message, DeprecationWarning, stacklevel=4)
            logger.warning("%s", message)
