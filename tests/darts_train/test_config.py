"""Typed configs: the guide's defaults, validation, and a cheap import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from darts_train import ConvertConfig, TestConfig, TrainConfig
from darts_train.hardware import resolve_trainer_devices, torch_device


def test_train_defaults_are_the_reference_cli_defaults() -> None:
    config = TrainConfig(train_data_dir=Path("data"))
    assert config.artifact_dir == Path("lightning_logs")
    assert (config.model_arch, config.model_encoder, config.model_encoder_weights) == ("Unet", "dpn107", None)
    assert (config.batch_size, config.learning_rate, config.gamma) == (8, 1e-3, 0.9)
    assert (config.focal_loss_alpha, config.focal_loss_gamma) == (None, 2.0)
    assert (config.max_epochs, config.check_val_every_n_epoch, config.log_every_n_steps) == (100, 3, 10)
    assert (config.early_stopping_patience, config.plot_every_n_val_epochs) == (5, 5)
    assert (config.random_seed, config.fold, config.n_folds, config.augment) == (42, 0, 5, True)
    assert config.precision == "auto" and config.final_retrain is False


def test_train_config_is_frozen_and_rejects_unknown_keys() -> None:
    config = TrainConfig(train_data_dir=Path("data"))
    with pytest.raises(ValidationError):
        config.batch_size = 2  # type: ignore[misc]
    with pytest.raises(ValidationError, match="current_fold"):
        TrainConfig(train_data_dir=Path("data"), current_fold=1)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("fold", 5, "out of range"),
        ("run_id", "../escape", "pattern"),
        ("trial_name", "a b", "pattern"),
        ("bands", ["blue", "bogus"], "unknown band"),
        ("gamma", 1.5, "less than or equal"),
        ("precision", "8-bit", "auto"),
    ],
)
def test_train_config_rejects_bad_values(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TrainConfig(train_data_dir=Path("data"), **{field: value})


def test_devices_accept_an_index_a_list_cpu_or_auto() -> None:
    for devices in (0, [0, 1], "cpu", "auto"):
        assert TrainConfig(train_data_dir=Path("d"), devices=devices).devices == devices


def test_test_config_needs_a_checkpoint_or_a_run() -> None:
    with pytest.raises(ValidationError, match="model_ckp"):
        TestConfig(train_data_dir=Path("d"), run_name="only-name")
    assert TestConfig(train_data_dir=Path("d"), run_name="n", run_id="i").model_ckp is None


def test_convert_config_defaults() -> None:
    config = ConvertConfig(
        lightning_checkpoint=Path("a.ckpt"), out_directory=Path("m"), checkpoint_name="rts"
    )
    assert (config.framework, config.overwrite) == ("smp", False)
    with pytest.raises(ValidationError):
        ConvertConfig(lightning_checkpoint=Path("a.ckpt"), out_directory=Path("m"), checkpoint_name="a/b")


def test_cpu_resolves_to_fp32_without_channels_last(monkeypatch) -> None:
    monkeypatch.setattr("darts_train.hardware.cpu_has_native_bf16", lambda: False)
    hw = resolve_trainer_devices("auto", "cpu", "auto")
    assert (hw.accelerator, hw.devices, hw.precision, hw.channels_last) == ("cpu", 1, "32-true", False)
    assert resolve_trainer_devices("cpu", "auto", "32").precision == "32-true"
    assert resolve_trainer_devices("cpu", "auto", "bf16-mixed").precision == "bf16-mixed"


def test_device_strings() -> None:
    assert str(torch_device("cpu")) == "cpu"
    assert str(torch_device(1)) == "cuda:1"
    assert str(torch_device("2")) == "cuda:2"
    assert str(torch_device("cuda:3")) == "cuda:3"


def test_importing_the_configs_does_not_import_torch() -> None:
    code = "import sys, darts_train; darts_train.TrainConfig; assert 'torch' not in sys.modules, 'torch'; "
    code += "assert 'lightning' not in sys.modules, 'lightning'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_auto_is_bf16_with_channels_last_on_a_cpu_with_native_bf16(monkeypatch) -> None:
    monkeypatch.setattr("darts_train.hardware.cpu_has_native_bf16", lambda: True)
    hw = resolve_trainer_devices("auto", "cpu", "auto")
    assert (hw.precision, hw.channels_last) == ("bf16-mixed", True)
    assert resolve_trainer_devices("cpu", "auto", "32").channels_last is False  # explicit 32 stays fp32
