"""Lazy package attributes (PEP 562): heavy names import their module on first use.

Every darts package ``__init__`` lists its heavy names (torch, lightning, GDAL, dask behind them) in
one table and gets its module ``__getattr__`` and ``__dir__`` from :func:`lazy_attributes`, so
``import darts_models`` (e.g. by ``darts --help``) stays cheap.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(
    package: str, table: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for the module ``package``, resolving names from ``table``.

    ``table`` maps an attribute name to the module that defines it, absolute (``darts_models.export``)
    or relative to ``package`` (``.export``). A resolved value is stored in the package's namespace,
    so the next access skips ``__getattr__``. Use it at the end of the ``__init__``::

        __getattr__, __dir__ = lazy_attributes(__name__, {"export_model": ".export"})
    """
    lazy = dict(table)

    def __getattr__(name: str) -> Any:  # noqa: N807 (the module hook's name)
        module = lazy.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:  # noqa: N807
        return sorted(set(vars(sys.modules[package])) | set(lazy))

    return __getattr__, __dir__


__all__ = ["lazy_attributes"]
