"""preprocess-device, test-device and sweep-device are separate keys; the old `device` key warns."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from darts_cli.settings import RunContext, build_config
from darts_preprocess.config import PlanetPreprocessConfig
from darts_sweep.config import SweepCommandConfig, SweepConfig
from darts_train.config import TestConfig

REQUIRED = {
    PlanetPreprocessConfig: {"data_dir": "d", "labels_dir": "l", "train_data_dir": "t"},
    TestConfig: {"train_data_dir": "t", "model_ckp": "m.ckpt"},
    SweepCommandConfig: {"train_data_dir": "t", "sweep_config": "s.yaml"},
}


def build(model: type, tmp_path: Path, text: str) -> object:
    config_file = tmp_path / "config.toml"
    config_file.write_text("[darts]\n" + text, encoding="utf-8")
    ctx = RunContext(command="test", config_file=config_file, config_file_explicit=True, cwd=tmp_path)
    return build_config(model, REQUIRED[model], ctx)


def test_a_sweep_device_moves_nothing_else(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    text = "sweep-device = 0\n"
    assert build(SweepCommandConfig, tmp_path, text).sweep_device == 0
    assert build(TestConfig, tmp_path, text).test_device == "auto"
    assert build(PlanetPreprocessConfig, tmp_path, text).preprocess_device == "cpu"
    assert not [r for r in caplog.records if "deprecated" in r.getMessage()]


def test_each_command_reads_its_own_key(tmp_path: Path) -> None:
    text = 'preprocess-device = "cuda"\ntest-device = "cuda:1"\nsweep-device = 1\n'
    assert build(SweepCommandConfig, tmp_path, text).sweep_device == 1
    assert build(TestConfig, tmp_path, text).test_device == "cuda:1"
    assert build(PlanetPreprocessConfig, tmp_path, text).preprocess_device == "cuda"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize(
    ("model", "field", "new_key"),
    [
        (TestConfig, "test_device", "test-device"),
        (SweepCommandConfig, "sweep_device", "sweep-device"),
        (PlanetPreprocessConfig, "preprocess_device", "preprocess-device"),
    ],
)
def test_old_device_key_still_works_and_warns(
    model: type, field: str, new_key: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    config = build(model, tmp_path, 'device = "cpu"\n')
    assert getattr(config, field) == "cpu"
    messages = [r.getMessage() for r in caplog.records if "deprecated" in r.getMessage()]
    assert len(messages) == 1 and f"'{new_key}'" in messages[0] and "config.toml" in messages[0]


def test_own_key_wins_over_the_old_one_without_warning(tmp_path: Path, caplog) -> None:
    config = build(TestConfig, tmp_path, 'device = 0\ntest-device = "cpu"\n')
    assert config.test_device == "cpu"
    assert not [r for r in caplog.records if "deprecated" in r.getMessage()]


def test_old_key_in_the_environment_warns(tmp_path: Path, monkeypatch, caplog) -> None:
    monkeypatch.setenv("DARTS_DEVICE", "cpu")
    config = build(SweepCommandConfig, tmp_path, "")
    assert config.sweep_device == "cpu"
    assert any("DARTS_DEVICE" in r.getMessage() and "sweep-device" in r.getMessage() for r in caplog.records)


def test_python_callers_get_a_deprecation_warning(tmp_path: Path) -> None:
    with pytest.warns(DeprecationWarning, match="'device' is deprecated; it now sets 'sweep_device'"):
        config = SweepConfig(train_data_dir=tmp_path, sweep_config=tmp_path / "s.yaml", device="cpu")
    assert config.sweep_device == "cpu"


def test_the_former_option_stays_an_alias_on_the_command_line() -> None:
    import typing

    from darts_cli.options import _parameters

    params, _ = _parameters(SweepCommandConfig)
    (param,) = [p for p in params if p.name == "sweep_device"]
    meta = typing.get_args(param.annotation)[1]
    assert tuple(meta.name) == ("--sweep-device", "--device")
