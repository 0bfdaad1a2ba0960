"""The documentation site builds (strictly) and its generated reference pages match the code."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    """docs/gen_reference.py, the generator the mkdocs hook runs."""
    path = REPO_ROOT / "docs" / "gen_reference.py"
    spec = importlib.util.spec_from_file_location("darts_docs_gen_reference_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**_env(), "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    for page in ("reference/config-keys", "reference/cli", "formats/bands", "quickstart", "architecture"):
        assert (site / page / "index.html").is_file(), f"{page} was not built"
    bands_html = (site / "formats" / "bands" / "index.html").read_text()
    assert "darts:bands-table" not in bands_html, "the bands-table marker was not replaced"
    _check_api_reference(site)
    tour = (site / "notebooks" / "tour" / "index.html").read_text()
    assert "generate_planet_collection" in tour, "the tour notebook was not rendered"


API_PACKAGES = (
    "darts_core",
    "darts_preprocess",
    "darts_dataset",
    "darts_models",
    "darts_train",
    "darts_sweep",
    "darts_cli",
)


def _check_api_reference(site: Path) -> None:
    """Every name a package exports (its __all__) has an entry on the package's API page."""
    import importlib
    import re

    for package in API_PACKAGES:
        html = (site / "api" / package / "index.html").read_text()
        anchors = set(re.findall(r'id="([\w.]+)"', html))
        module = importlib.import_module(package)
        missing = [name for name in module.__all__ if f"{package}.{name}" not in anchors]
        assert not missing, f"{package}: exported names without an API entry: {missing}"
        assert ":func:`" not in html and ":class:`" not in html, f"{package}: a Sphinx role was not rendered"


def test_sphinx_roles_render_as_code() -> None:
    path = REPO_ROOT / "docs" / "hooks" / "griffe_roles.py"
    spec = importlib.util.spec_from_file_location("darts_docs_griffe_roles_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = "See :func:`darts_train.train_smp` and :class:`~darts_models.LoadedModel`, or ``x``."
    assert module.strip_roles(text) == "See `darts_train.train_smp` and `darts_models.LoadedModel`, or ``x``."


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_config_keys_page_lists_every_key_of_every_command(gen: ModuleType) -> None:
    page = gen.config_keys_page()
    models = gen.command_models()
    assert models, "darts_cli.registry is not importable"
    for command, model in models.items():
        assert f"[`{command}`]" in page
        if model is None:
            continue
        assert f"{model.__module__}.{model.__qualname__}" in page
        for name, info in model.model_fields.items():
            key = name.replace("_", "-")
            rows = _key_rows(page, key)
            assert rows, f"key {key} of {command} missing from the configuration reference"
            assert any(f"`{command}`" in row for row in rows), f"{key} does not name {command}"
            if info.description:
                first_word = info.description.split()[0]
                assert any(first_word in row for row in rows), f"description of {key} missing"


def _key_rows(page: str, key: str) -> list[str]:
    """The table rows of ``key``: its first row and the 〃 rows right after it."""
    lines = page.splitlines()
    start = [i for i, line in enumerate(lines) if line.startswith(f"| `{key}` |")]
    if not start:
        return []
    rows = [lines[start[0]]]
    for line in lines[start[0] + 1 :]:
        if not line.startswith("| 〃 |"):
            break
        rows.append(line)
    return rows


def test_format_default_and_type(gen: ModuleType) -> None:
    from typing import Literal

    from pydantic import BaseModel, Field

    class Demo(BaseModel):
        a: int = 3
        b: list[str] = Field(default_factory=lambda: ["x"])
        c: Path | None = None
        d: Literal["cpu", "auto"] = "auto"
        e: bool = False
        f: float

    fields = Demo.model_fields
    assert gen.format_default(fields["a"]) == "`3`"
    assert gen.format_default(fields["b"]) == "`['x']`"
    assert gen.format_default(fields["c"]) == "—"
    assert gen.format_default(fields["d"]) == '`"auto"`'
    assert gen.format_default(fields["e"]) == "`false`"
    assert gen.format_default(fields["f"]) == "*required*"
    assert gen.format_type(fields["b"].annotation) == "list[str]"
    assert gen.format_type(fields["c"].annotation) == "Path | None"
    assert gen.format_type(fields["d"].annotation) == "'cpu' | 'auto'"
    assert gen.format_type(tuple[str, ...]) == "list[str]"
    assert gen._cell("a | b") == "a \\| b"


def test_bands_table_matches_registry(gen: ModuleType) -> None:
    from darts_core.bands import BANDS

    table = gen.bands_table()
    rows = {line.split("|")[1].strip(): line for line in table.splitlines()[2:]}
    assert set(rows) == {f"`{name}`" for name in BANDS}
    for name, spec in BANDS.items():
        assert f"1/{1 / spec.norm_factor:g}" in rows[f"`{name}`"]


def test_cli_page_has_every_command(gen: ModuleType) -> None:
    from darts_cli.registry import COMMANDS

    page = gen.cli_page()
    for info in COMMANDS:
        assert f"## {info.name}\n" in page
        assert f"Usage: darts {info.name}" in page


def test_unknown_models_fail_with_their_name(gen: ModuleType) -> None:
    assert gen.resolve("darts_preprocess:PlanetPreprocessConfig") is not None
    with pytest.raises(LookupError, match="surely_not_a_name"):
        gen.resolve("darts_preprocess:surely_not_a_name")
    with pytest.raises(LookupError, match="no_such_package_xyz"):
        gen.resolve("no_such_package_xyz:anything")
