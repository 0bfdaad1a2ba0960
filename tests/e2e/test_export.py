"""`darts export-model` through the real CLI; whole-scene ONNX inference equals torch's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

ENCODER = "tu-mobilenetv3_small_050"
BANDS = ("blue", "green", "red", "nir")


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def darts(*args: object, log_dir: Path) -> int:
    from darts_cli.app import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--log-dir", str(log_dir), *map(str, args)])
    return exit_info.value.code


def _model_file(folder: Path, arch: str = "Unet", encoder: str = ENCODER) -> Path:
    from darts_models import DeployableModelConfig, ModelSpec, build_model, save_deployable_checkpoint

    torch.manual_seed(0)
    net = build_model(arch, encoder, None, len(BANDS))
    config = DeployableModelConfig(
        input_combination=BANDS,
        model=ModelSpec(arch=arch, encoder_name=encoder, in_channels=len(BANDS)),
        norm_factors=dict.fromkeys(BANDS, 1 / 3000),
        name="e2e-export",
        patch_size=64,
    )
    return save_deployable_checkpoint(folder / f"{arch}.ckpt", net.state_dict(), config)


def _scene(h: int, w: int):
    import rioxarray  # noqa: F401
    import xarray as xr

    rng = np.random.default_rng(3)
    data = {b: (("y", "x"), rng.uniform(200, 3500, (h, w)).astype(np.float32)) for b in BANDS}
    data["red"][1][:4, :6] = np.nan
    coords = {"y": 7_000_000 - 3.0 * np.arange(h), "x": 500_000 + 3.0 * np.arange(w)}
    return xr.Dataset(data, coords=coords).rio.write_crs("EPSG:32633")


def test_export_model_command_and_onnx_scene_inference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from darts_models import load_predictor, segment_scene

    monkeypatch.chdir(tmp_path)
    logs = tmp_path / "logs"
    model = _model_file(tmp_path)
    out = tmp_path / "exported" / "rts.onnx"
    args = ["export-model", "--model-file", model, "--format", "onnx", "--output", out]
    assert darts(*args, "--patch-size", 64, log_dir=logs) == 0
    side = json.loads(Path(f"{out}.json").read_text())
    assert side["bands"] == list(BANDS) and side["patch_size"] == 64
    assert darts(*args, log_dir=logs) == 1  # refuses to overwrite
    assert "already exists" in capsys.readouterr().err
    assert darts(*args, "--overwrite", log_dir=logs) == 0

    scene = _scene(150, 130)
    kw = {"patch_size": 64, "overlap": 16, "batch_size": 4}
    by_torch = segment_scene(load_predictor([model], device="cpu", precision="fp32"), scene, **kw)
    by_onnx = segment_scene(load_predictor([out], runtime="onnx", device="cpu"), scene, **kw)
    assert np.isnan(by_onnx.values[:4, :6]).all()
    np.testing.assert_allclose(by_onnx.values, by_torch.values, atol=1e-4, rtol=0)
    assert by_onnx.rio.crs == scene.rio.crs

    assert darts("export-model", "--model-file", model, "--format", "torchscript", log_dir=logs) == 0
    assert model.with_suffix(".pt").is_file() and Path(f"{model.with_suffix('.pt')}.json").is_file()


def test_export_model_command_fails_clearly_for_pspnet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    model = _model_file(tmp_path, arch="PSPNet", encoder="resnet18")
    assert darts("export-model", "--model-file", model, log_dir=tmp_path / "logs") == 1
    err = capsys.readouterr().err
    assert "cannot export PSPNet/resnet18 to onnx" in err and "Traceback" not in err
    assert not model.with_suffix(".onnx").exists()
