"""Every workspace package declares exactly what it imports (deptry: no undeclared, unused or
transitive-only dependency). Exceptions (runtime-only backends, optional modules loaded by name) are
listed with their reason under ``[tool.deptry]`` in the package's own pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIRS = [
    *sorted(p.parent for p in (REPO_ROOT / "packages").glob("*/pyproject.toml")),
    REPO_ROOT / "darts-cli",
    REPO_ROOT / "tests" / "_support",
]
DEPTRY = Path(sys.executable).parent / "deptry"


@pytest.mark.parametrize("package_dir", PACKAGE_DIRS, ids=lambda p: p.name)
def test_package_declares_exactly_what_it_imports(package_dir: Path) -> None:
    result = subprocess.run(
        [str(DEPTRY), "src", "--no-ansi"],
        cwd=package_dir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{package_dir.name}:\n{result.stdout}{result.stderr}"


def test_the_check_catches_an_undeclared_and_an_unused_dependency(tmp_path: Path) -> None:
    """deptry fails on a package that imports what it does not declare and declares what it never imports."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "probe"\nversion = "0"\ndependencies = ["numpy>=1.26", "rich>=13"]\n'
    )
    (tmp_path / "src" / "probe").mkdir(parents=True)
    (tmp_path / "src" / "probe" / "__init__.py").write_text("import numpy\nimport yaml\n")
    result = subprocess.run(
        [str(DEPTRY), "src", "--no-ansi"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "'yaml' imported but" in out  # DEP001 (missing) or DEP003 (only transitive)
    assert "DEP002 'rich' defined as a dependency but not used" in out
