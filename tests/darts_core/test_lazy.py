"""The one lazy-import helper: every package's lazy names are public, importable and cached."""

from __future__ import annotations

import importlib
import sys
import types

import pytest

from darts_core.lazy import lazy_attributes

PACKAGES = (
    "darts_core",
    "darts_preprocess",
    "darts_dataset",
    "darts_models",
    "darts_train",
    "darts_segment",
)


@pytest.mark.parametrize("name", PACKAGES)
def test_every_lazy_name_is_public_and_importable(name: str) -> None:
    package = importlib.import_module(name)
    lazy = package._LAZY
    assert lazy, f"{name} has no lazy names"
    assert not set(lazy) - set(package.__all__), f"{name}: lazy names missing from __all__"
    assert set(lazy) <= set(dir(package))
    for attr in package.__all__:
        value = getattr(package, attr)
        assert value is not None, f"{name}.{attr}"
        if attr in lazy:  # defined where the table says
            assert value is getattr(importlib.import_module(lazy[attr], name), attr)


def test_a_resolved_name_is_cached_and_an_unknown_name_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("lazy_probe")
    monkeypatch.setitem(sys.modules, "lazy_probe", module)
    module.__getattr__, module.__dir__ = lazy_attributes("lazy_probe", {"dumps": "json"})  # type: ignore[method-assign]
    import json

    assert module.dumps is json.dumps
    assert vars(module)["dumps"] is json.dumps  # stored: __getattr__ is not asked again
    assert "dumps" in dir(module)
    with pytest.raises(AttributeError, match="module 'lazy_probe' has no attribute 'loads'"):
        _ = module.loads
