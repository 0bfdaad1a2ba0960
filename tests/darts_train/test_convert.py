"""convert_lightning_checkpoint: the deployable file, its provenance, no silent overwrite, same output."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import torch

from darts_dataset import PatchDataset
from darts_models import load_deployable_checkpoint
from darts_train import ConvertConfig, RunExistsError, convert_lightning_checkpoint
from darts_train.module import load_task


@pytest.fixture(scope="module")
def converted(trained_run: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models")
    config = ConvertConfig(
        lightning_checkpoint=trained_run.best_checkpoint, out_directory=out, checkpoint_name="rts"
    )
    return convert_lightning_checkpoint(config)


def test_file_name_and_layout(converted: Path) -> None:
    assert converted.name == f"rts_{dt.date.today():%Y-%m-%d}.ckpt"
    payload = torch.load(converted, map_location="cpu", weights_only=True)
    assert set(payload) == {"config", "statedict"}
    config = payload["config"]
    assert config["input_combination"] == ["blue", "green", "red", "nir", "ndvi"]
    assert config["model"] == {"arch": "Unet", "encoder_name": "resnet18", "in_channels": 5, "classes": 1}
    assert config["norm_factors"]["ndvi"] == pytest.approx(1 / 20000)
    assert config["model_framework"] == "smp" and config["patch_size"] == 64
    assert not any(k.startswith("model.") for k in payload["statedict"])


def test_provenance(converted: Path, trained_run: Any) -> None:
    provenance = torch.load(converted, map_location="cpu", weights_only=True)["config"]["provenance"]
    assert (provenance["run_name"], provenance["run_id"], provenance["random_seed"]) == (
        "shared",
        "run00001",
        42,
    )
    assert provenance["metrics"]["val/JaccardIndex"] == pytest.approx(trained_run.best_score)
    assert len(provenance["dataset"]["config_sha256"]) == 64
    assert provenance["hparams"]["learning_rate"] == pytest.approx(1e-3)


def test_refuses_to_overwrite_unless_asked(converted: Path, trained_run: Any) -> None:
    config = ConvertConfig(
        lightning_checkpoint=trained_run.last_checkpoint,
        out_directory=converted.parent,
        checkpoint_name="rts",
    )
    before = converted.read_bytes()
    with pytest.raises(RunExistsError, match=r"already exists.*pass --overwrite"):
        convert_lightning_checkpoint(config)
    assert converted.read_bytes() == before
    again = convert_lightning_checkpoint(config.model_copy(update={"overwrite": True}))
    assert again == converted and converted.read_bytes() != before


def test_same_probabilities_as_the_lightning_checkpoint(
    trained_run: Any, tiny_train_data: Path, tmp_path: Path
) -> None:
    path = convert_lightning_checkpoint(
        ConvertConfig(
            lightning_checkpoint=trained_run.best_checkpoint, out_directory=tmp_path, checkpoint_name="same"
        )
    )
    deployable = load_deployable_checkpoint(path, device="cpu")
    task = load_task(trained_run.best_checkpoint)
    data = PatchDataset(tiny_train_data, "val-test", bands=deployable.config.input_combination)
    x = torch.stack([data[i]["x"] for i in range(len(data))])
    with torch.inference_mode():
        expected = torch.sigmoid(task(x))
        got = torch.sigmoid(deployable.model(x)).squeeze(1)
    assert torch.allclose(got, expected, atol=1e-5)


def test_not_a_lightning_checkpoint(tmp_path: Path) -> None:
    from darts_train import CheckpointError

    bogus = tmp_path / "x.ckpt"
    torch.save({"config": {}, "statedict": {}}, bogus)
    with pytest.raises(CheckpointError, match="already a deployable"):
        convert_lightning_checkpoint(
            ConvertConfig(lightning_checkpoint=bogus, out_directory=tmp_path, checkpoint_name="x")
        )


def test_disk_full_leaves_no_model_file(
    trained_run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    from darts_models.errors import DiskFullError

    real_save = torch.save

    def save_until_full(obj: object, fh: Any, *args: object, **kwargs: object) -> None:
        real_save({"partial": True}, fh)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(torch, "save", save_until_full)
    config = ConvertConfig(
        lightning_checkpoint=trained_run.best_checkpoint, out_directory=tmp_path, checkpoint_name="rts"
    )
    with pytest.raises(DiskFullError, match=f"disk full at {tmp_path / 'rts_'}"):
        convert_lightning_checkpoint(config)
    assert list(tmp_path.iterdir()) == []
