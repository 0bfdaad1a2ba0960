"""Fixtures of the darts_cli tests: small settings models, test commands and an in-process runner."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from darts_cli.app import main
from darts_cli.options import darts_command
from darts_cli.registry import CommandInfo
from darts_core.errors import DartsInputError
from darts_test_support.paths import GUIDE_CONFIG_FILE


class SweepSettings(BaseModel):
    """Sweep keys of the guide's example config."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    n_trials: int = 10
    """Trials per runner."""
    n_folds: int = 5
    """Folds."""
    n_randoms: int = 1
    """Seeds per fold."""
    sweep_db: str | None = None
    """Storage URL."""
    sweep_id: str | None = None
    """Study name."""
    sweep_config: Path | None = None
    """Sweep file."""
    wandb_project: str = "darts"
    """W&B project."""
    wandb_entity: str | None = None
    """W&B entity."""
    norm_factors: dict[str, float] = {}
    """A table-valued key: a TOML sub-table with this name is one value."""


class TrainSettings(BaseModel):
    """Training keys of the guide's example config."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    train_data_dir: Path
    """Training set root (required)."""
    artifact_dir: Path = Path("artifacts")
    """Artifacts."""
    num_workers: int = 0
    """Loader workers."""
    max_epochs: int = 1
    """Epochs."""
    log_every_n_steps: int = 10
    """Logging period."""
    check_val_every_n_epoch: int = 1
    """Validation period."""
    plot_every_n_val_epochs: int = 1
    """Plot period."""
    early_stopping_patience: int = 0
    """Patience."""
    batch_size: int = 8
    """Batch size."""
    augment: bool = False
    """Augmentation on/off."""
    devices: int | list[int] | Literal["auto", "cpu"] = "auto"
    """A GPU index, a list of them, cpu or auto (a list-or-scalar option)."""


class PreprocessSettings(BaseModel):
    """Preprocessing keys of the guide's example config (with a guide alias on a `_m` field)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    ee_project: str | None = None
    """Earth Engine project."""
    tpi_outer_radius_m: float = Field(
        30.0, validation_alias=AliasChoices("tpi_outer_radius_m", "tpi_outer_radius")
    )
    """Outer TPI radius in metres."""
    tpi_inner_radius_m: float = Field(
        0.0, validation_alias=AliasChoices("tpi_inner_radius_m", "tpi_inner_radius")
    )
    """Inner TPI radius in metres."""
    bands: list[str] = ["red"]
    """Bands."""
    patch_size: int = 64
    """Patch size in px."""
    overlap: int = 0
    """Overlap in px."""
    exclude_nopositive: bool = False
    """Drop patches without positives."""
    exclude_nan: bool = True
    """Drop patches with NaN."""
    test_val_split: float = 0.05
    """val-test fraction."""
    test_regions: list[str] = []
    """Held-out regions."""
    data_dir: Path | None = None
    """Scenes."""
    labels_dir: Path | None = None
    """Labels."""
    arcticdem_dir: Path | None = None
    """ArcticDEM."""
    tcvis_dir: Path | None = None
    """TCVIS."""
    admin_dir: Path | None = None
    """Admin regions."""
    preprocess_cache: Path | None = None
    """Cache."""


def _show(config: BaseModel) -> int:
    print(json.dumps(config.model_dump(mode="json")))
    return 0


@darts_command(SweepSettings)
def show_sweep(config: SweepSettings) -> int:
    """Print the merged sweep settings as JSON."""
    return _show(config)


@darts_command(TrainSettings)
def show_train(config: TrainSettings) -> int:
    """Print the merged train settings as JSON."""
    return _show(config)


@darts_command(PreprocessSettings)
def show_preprocess(config: PreprocessSettings) -> int:
    """Print the merged preprocessing settings as JSON."""
    return _show(config)


@darts_command()
def fail_darts() -> int:
    """Raise a DartsError."""
    raise DartsInputError("scene /data/x.tif has no red band; expected blue, green, red, nir")


@darts_command()
def fail_bug() -> int:
    """Raise an unexpected error."""
    raise RuntimeError("a bug deep inside")


@darts_command()
def interrupted() -> int:
    """Behave as if the user pressed Ctrl-C."""
    raise KeyboardInterrupt


@darts_command(TrainSettings)
def validate_late(config: TrainSettings) -> int:
    """Raise pydantic's ValidationError from the library side."""
    TrainSettings.model_validate({"train_data_dir": "x", "batch_size": "many"})
    return 0


TEST_COMMANDS = (
    CommandInfo("show-sweep", show_sweep, "sweep settings"),
    CommandInfo("show-train", show_train, "train settings"),
    CommandInfo("show-preprocess", show_preprocess, "preprocess settings"),
    CommandInfo("fail-darts", fail_darts, "DartsError"),
    CommandInfo("fail-bug", fail_bug, "RuntimeError"),
    CommandInfo("interrupted", interrupted, "KeyboardInterrupt"),
    CommandInfo("validate-late", validate_late, "ValidationError"),
)


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def config(self) -> dict:
        return json.loads(self.out.strip().splitlines()[-1])

    @property
    def warnings(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.startswith("WARNING")]


@pytest.fixture(scope="session")
def guide_config() -> Path:
    """The guide's example config, verbatim in configs/."""
    return GUIDE_CONFIG_FILE


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory without DARTS_* variables."""
    import os

    for name in list(os.environ):
        if name.upper().startswith("DARTS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def run_cli(workdir: Path, capsys: pytest.CaptureFixture[str]):
    """Run `darts` in-process with the test commands; returns code, stdout and stderr."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            main(["--log-dir", str(workdir / "logs"), *args], commands=TEST_COMMANDS)
        captured = capsys.readouterr()
        return CliResult(int(exit_info.value.code or 0), captured.out, captured.err)

    return run
