"""The installed `darts` entry point and the workspace packages, each run as a separate process."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DARTS = Path(sys.executable).parent / "darts"
ALL_COMMANDS = (
    "preprocess-planet-train-data",
    "preprocess-s2-train-data",
    "validate-train-data",
    "train-smp",
    "test-smp",
    "convert-lightning-checkpoint",
    "segment-planet-scenes",
    "segment-s2-scenes",
    "optuna-sweep-smp",
    "sweep-report",
    "env-info",
    "quickstart",
)
HEAVY = ("torch", "lightning", "optuna", "wandb", "xarray", "rasterio", "geopandas")


def darts(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DARTS_")} | (env or {})
    return subprocess.run(
        [str(DARTS), *args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=120, check=False
    )


def test_help_lists_every_command_and_imports_no_training_stack(tmp_path: Path) -> None:
    result = darts("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for command in ALL_COMMANDS:
        assert command in result.stdout, command
    for option in ("--config-file", "--log-dir", "--verbose"):
        assert option in result.stdout
    probe = (
        "import sys\nfrom darts_cli.app import main\ntry:\n    main(['--help'])\nexcept SystemExit as e:\n"
        f"    assert e.code == 0, e.code\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert not (tmp_path / "logs").exists()  # --help runs no command, so it writes no log file


def test_command_modules_import_without_the_training_stack(tmp_path: Path) -> None:
    """Every command run imports all command modules (to know every config key): they must stay cheap."""
    probe = (
        "import importlib, sys\nfrom darts_cli.registry import COMMANDS, settings_models\n"
        "for info in COMMANDS:\n    importlib.import_module(info.target.partition(':')[0])\n"
        "settings_models()\n"
        "print(sorted(m for m in ('torch', 'lightning', 'optuna', 'wandb') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_env_info_reports_versions_devices_and_bf16(tmp_path: Path, monkeypatch, capsys) -> None:
    import torch

    from darts_cli.app import main

    monkeypatch.chdir(tmp_path)  # in-process: torch is already imported by the root conftest
    with pytest.raises(SystemExit) as exit_info:
        main(["env-info"])
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for expected in ("darts-dataset", "cuda available", "bf16 supported", torch.__version__.split("+")[0]):
        assert expected in out, expected
    assert f"cuda available │ {torch.cuda.is_available()}" in out
    assert list((tmp_path / "logs").glob("darts-env-info-*.log"))


def test_broken_config_file_exits_2_through_the_entry_point(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[darts\n", encoding="utf-8")
    result = darts("env-info", cwd=tmp_path)
    assert result.returncode == 2
    assert "TOML syntax error" in result.stderr and str(tmp_path / "config.toml") in result.stderr


GIS_STACK = ("rasterio", "geopandas", "dask", "distributed", "odc.geo", "pyogrio")
WORKSPACE = (
    "darts_preprocess",
    "darts_dataset",
    "darts_models",
    "darts_train",
    "darts_sweep",
    "darts_segment",
)
# package -> what installing it alone must leave out: the workspace packages above it (and beside it
# where it must not need them) and the heavy stacks it must not pull
NOT_INSTALLED = {
    "darts-core": (*WORKSPACE, "darts_cli", "torch", "lightning", "xarray", "zarr", *GIS_STACK),
    "darts-preprocess": (*WORKSPACE[1:], "darts_cli", "torch", "lightning"),
    "darts-dataset": ("darts_preprocess", *WORKSPACE[2:], "darts_cli", *GIS_STACK),
    "darts-models": (
        "darts_preprocess",
        "darts_dataset",
        *WORKSPACE[3:],
        "darts_cli",
        "lightning",
        "zarr",
        *GIS_STACK,
    ),
    "darts-train": ("darts_preprocess", "darts_sweep", "darts_segment", "darts_cli", *GIS_STACK),
    "darts-sweep": ("darts_preprocess", "darts_segment", "darts_cli", *GIS_STACK),
    "darts-segment": ("darts_dataset", "darts_train", "darts_sweep", "darts_cli", "lightning"),
}
NO_TRAINING_STACK = {"darts-core", "darts-preprocess", "darts-dataset", "darts-models", "darts-segment"}
"""Importing these must not import Lightning (darts-dataset has it installed, for its DataModule)."""
WITH_EXAMPLE = ("darts-core", "darts-preprocess", "darts-dataset", "darts-models")
"""Packages whose ``__init__`` docstring holds a ``Quick example::`` that must run in the lone install."""


def quick_example(package: str) -> str:
    """The ``Quick example::`` block of ``package``'s ``__init__`` docstring, dedented."""
    module = package.replace("-", "_")
    init = REPO_ROOT / "packages" / package / "src" / module / "__init__.py"
    doc = ast.get_docstring(ast.parse(init.read_text())) or ""
    if "Quick example::" not in doc:
        raise AssertionError(f"{init}: the docstring has no 'Quick example::' block")
    return textwrap.dedent(doc.split("Quick example::", 1)[1]).strip() + "\n"


def _import_alone(package: str) -> subprocess.CompletedProcess[str]:
    """Import `package` in a throwaway environment holding only it and its own dependencies, check what
    is not installed there, and run its quick example."""
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        pytest.fail("uv not found: the workspace is driven by uv")
    module = package.replace("-", "_")
    probe = (
        "import importlib.util, sys\n"
        f"import {module}\n"
        "def installed(name):\n"
        "    try:\n"
        "        return importlib.util.find_spec(name) is not None\n"
        "    except ModuleNotFoundError:\n"
        "        return False\n"
        f"present = [m for m in {NOT_INSTALLED[package]!r} if installed(m)]\n"
        "assert not present, f'installed but must not be: {present}'\n"
        f"if {package in NO_TRAINING_STACK!r}:\n"
        "    assert 'lightning' not in sys.modules, 'importing pulled in lightning'\n"
    )
    if package in WITH_EXAMPLE:
        probe += quick_example(package)
    probe += "print('ok')\n"
    command = [uv, "run", "--isolated", "--frozen", "--offline", "--no-dev", "--package", package]
    return subprocess.run(
        [*command, "python", "-c", probe],
        cwd=REPO_ROOT,
        env=os.environ | {"OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.timeout(600)  # builds one throwaway environment per package
def test_each_package_installs_and_imports_on_its_own() -> None:
    """`uv run --isolated`: a temporary env per package, so the shared .venv is never re-synced."""
    with ThreadPoolExecutor(max_workers=len(NOT_INSTALLED)) as pool:
        results = dict(zip(NOT_INSTALLED, pool.map(_import_alone, NOT_INSTALLED), strict=True))
    failed = {p: r.stderr[-2000:] for p, r in results.items() if r.returncode != 0 or "ok" not in r.stdout}
    assert not failed, failed
