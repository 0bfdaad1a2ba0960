"""Deployable model files: round trip, no silent overwrite, malformed files, the reference's files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from pydantic import ValidationError

from darts_models import (
    CheckpointError,
    CheckpointExistsError,
    CheckpointNotFoundError,
    DeployableModelConfig,
    ModelSpec,
    build_model,
    load_deployable_checkpoint,
    save_deployable_checkpoint,
)

BANDS = ("blue", "green", "red")


def _config(**overrides: object) -> DeployableModelConfig:
    data = {
        "input_combination": BANDS,
        "model": ModelSpec(arch="Unet", encoder_name="resnet18", in_channels=3),
        "norm_factors": dict.fromkeys(BANDS, 1 / 3000),
        "name": "rts-test",
        "patch_size": 32,
        "provenance": {"run_name": "r1", "run_id": "abc", "fold": 0},
    }
    return DeployableModelConfig(**{**data, **overrides})


@pytest.fixture(scope="module")
def unet() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model("Unet", "resnet18", None, in_channels=3).eval()


def test_round_trip_strips_lightning_prefix_and_keeps_plain_config(
    unet: torch.nn.Module, tmp_path: Path
) -> None:
    path = tmp_path / "model.ckpt"
    lightning_style = {f"model.{k}": v for k, v in unet.state_dict().items()}
    save_deployable_checkpoint(path, lightning_style, _config())
    raw = torch.load(path, weights_only=True)
    assert set(raw) == {"config", "statedict"}
    assert set(raw["statedict"]) == set(unet.state_dict())
    assert raw["config"]["model"] == {
        "arch": "Unet",
        "encoder_name": "resnet18",
        "in_channels": 3,
        "classes": 1,
    }
    assert raw["config"]["input_combination"] == list(BANDS)
    assert raw["config"]["model_framework"] == "smp"

    loaded = load_deployable_checkpoint(path, "cpu")
    assert loaded.config == _config(time=loaded.config.time)
    assert not loaded.model.training
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded.model(x), unet(x))
    assert [p.name for p in tmp_path.iterdir()] == ["model.ckpt"]  # no temp file left behind


def test_never_overwrites_silently(unet: torch.nn.Module, tmp_path: Path) -> None:
    path = tmp_path / "model.ckpt"
    save_deployable_checkpoint(path, unet.state_dict(), _config())
    before = path.read_bytes()
    with pytest.raises(CheckpointExistsError, match="already exists") as info:
        save_deployable_checkpoint(path, unet.state_dict(), _config(name="other"))
    assert isinstance(info.value, FileExistsError)
    assert path.read_bytes() == before
    save_deployable_checkpoint(path, unet.state_dict(), _config(name="other"), overwrite=True)
    assert load_deployable_checkpoint(path).config.name == "other"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.ckpt"]


def test_reference_file_loads(unet: torch.nn.Module, tmp_path: Path) -> None:
    """The reference stores its training hparams as the config and drops ``encoder_weights``."""
    path = tmp_path / "RTS_v6_notcvis_2024-10-01.ckpt"
    config = {
        "model": {"arch": "UnetPlusPlus", "encoder_name": "resnet18", "in_channels": 3, "classes": 1},
        "input_combination": list(BANDS),
        "norm_factors": dict.fromkeys(BANDS, 1 / 3000),
        "patch_size": 1024,
        "learning_rate": 1e-3,
        "gamma": 0.9,
        "time": "2024-10-01",
        "name": "RTS_v6_notcvis",
        "model_framework": "smp",
    }
    ref_model = build_model("UnetPlusPlus", "resnet18", None, in_channels=3).eval()
    torch.save({"config": config, "statedict": ref_model.state_dict()}, path)
    loaded = load_deployable_checkpoint(path)
    assert loaded.config.model.arch == "UnetPlusPlus"
    assert loaded.config.patch_size == 1024
    assert loaded.config.time == "2024-10-01"
    assert loaded.config.provenance["extra_config"] == {"learning_rate": 1e-3, "gamma": 0.9}
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded.model(x), ref_model(x))


@pytest.mark.parametrize(
    ("payload", "missing"),
    [
        ({"config": {}}, "statedict"),
        ({"statedict": {}}, "config"),
        ({"config": {"model": {}, "input_combination": ["red"]}, "statedict": {}}, "norm_factors"),
        (
            {
                "config": {"model": {"arch": "Unet"}, "input_combination": ["red"], "norm_factors": {}},
                "statedict": {},
            },
            "encoder_name",
        ),
    ],
)
def test_malformed_file_names_the_missing_key(payload: dict, missing: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.ckpt"
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match=f"'{missing}'") as info:
        load_deployable_checkpoint(path)
    assert str(path) in str(info.value)


def test_lightning_checkpoint_gets_a_hint_and_truncated_file_an_error(tmp_path: Path) -> None:
    path = tmp_path / "epoch=1.ckpt"
    torch.save({"state_dict": {}, "hyper_parameters": {}}, path)
    with pytest.raises(CheckpointError, match="convert-lightning-checkpoint"):
        load_deployable_checkpoint(path)
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(CheckpointError, match="weights_only"):
        load_deployable_checkpoint(path)
    with pytest.raises(CheckpointNotFoundError):
        load_deployable_checkpoint(tmp_path / "nope.ckpt")


def test_weights_that_do_not_fit_are_reported(unet: torch.nn.Module, tmp_path: Path) -> None:
    path = tmp_path / "model.ckpt"
    four_bands = ("blue", "green", "red", "nir")
    config = _config(
        input_combination=four_bands,
        model=ModelSpec(arch="Unet", encoder_name="resnet18", in_channels=4),
        norm_factors=dict.fromkeys(four_bands, 1.0),
    )
    save_deployable_checkpoint(path, unet.state_dict(), config)
    with pytest.raises(CheckpointError, match="4 input bands"):
        load_deployable_checkpoint(path)


def test_config_checks_bands_against_channels() -> None:
    with pytest.raises(ValidationError, match="in_channels"):
        _config(input_combination=("blue", "green"))
    with pytest.raises(ValidationError, match="norm_factors"):
        _config(norm_factors={"blue": 1.0})
    with pytest.raises(ValidationError):
        _config(model_framework="tensorflow")


def test_weights_are_assigned_to_a_network_built_without_initialisation() -> None:
    from darts_models.checkpoint import ModelSpec, _network_with_weights
    from darts_models.factory import build_model

    spec = ModelSpec(arch="Unet", encoder_name="resnet18", in_channels=3, classes=1)
    reference = build_model("Unet", "resnet18", None, 3, 1).eval()
    model = _network_with_weights(spec, reference.state_dict()).eval()
    tensors = [*model.parameters(), *model.buffers()]
    assert tensors and not any(t.is_meta for t in tensors)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model(x), reference(x))


def test_a_network_with_a_tensor_the_file_lacks_is_built_the_ordinary_way(monkeypatch) -> None:
    import darts_models.checkpoint as checkpoint

    class WithScratch(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 1, 1)
            self.register_buffer("scale", torch.full((1,), 2.0), persistent=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(x) * self.scale

    monkeypatch.setattr(checkpoint, "build_model", lambda *args: WithScratch())
    spec = checkpoint.ModelSpec(arch="Unet", encoder_name="resnet18", in_channels=3, classes=1)
    weights = WithScratch().state_dict()
    model = checkpoint._network_with_weights(spec, weights)
    assert not model.scale.is_meta and float(model.scale) == 2.0
    assert torch.equal(model.conv.weight, weights["conv.weight"])
