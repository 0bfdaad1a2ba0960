"""ONNX / TorchScript export: agreement with torch on real-size patches, runs with no darts import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from darts_models import (
    DeployableModelConfig,
    ModelSpec,
    build_model,
    export_model,
    load_predictor,
    save_deployable_checkpoint,
)
from darts_models.errors import CheckpointExistsError, ExportError
from darts_models.sidecar import read_sidecar

BANDS = ("blue", "green", "red", "nir", "ndvi")
ENCODER = "tu-mobilenetv3_small_050"  # a tiny timm encoder; encoder_weights=None
PATCH = 256


def _model_file(folder: Path, arch: str = "Unet", encoder: str = ENCODER, patch: int = PATCH) -> Path:
    torch.manual_seed(0)
    net = build_model(arch, encoder, None, len(BANDS))
    with torch.no_grad():  # spread the outputs: random heads of untrained nets sit near 0.5
        for p in net.segmentation_head.parameters():
            p.mul_(20.0)
    config = DeployableModelConfig(
        input_combination=BANDS,
        model=ModelSpec(arch=arch, encoder_name=encoder, in_channels=len(BANDS)),
        norm_factors={
            "blue": 1 / 3000,
            "green": 1 / 3000,
            "red": 1 / 3000,
            "nir": 1 / 3000,
            "ndvi": 1 / 20000,
        },
        name=f"{arch.lower()}-tiny",
        patch_size=patch,
    )
    return save_deployable_checkpoint(folder / f"{arch.lower()}.ckpt", net.state_dict(), config)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    return _model_file(tmp_path_factory.mktemp("export"))


@pytest.fixture(scope="module")
def onnx_file(model_file: Path) -> Path:
    return export_model(model_file, format="onnx").path


def _patches(n: int, size: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, len(BANDS), size, size), dtype=np.float32)


def test_onnx_probabilities_equal_torch_on_real_size_patches(model_file: Path, onnx_file: Path) -> None:
    assert onnx_file == model_file.with_suffix(".onnx")
    torch_pred = load_predictor([model_file], device="cpu", precision="fp32")
    onnx_pred = load_predictor([onnx_file], runtime="onnx", device="cpu")
    for n, size in ((2, PATCH), (1, 2 * PATCH)):  # dynamic batch and spatial axes
        x = _patches(n, size, seed=size)
        expected = torch_pred.predict_patches(x)
        got = onnx_pred.predict_patches(x)
        assert got.shape == (n, size, size) and got.dtype == np.float32
        assert expected.std() > 0.01  # not a constant map
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)
    assert onnx_pred.config == torch_pred.config
    (source,) = onnx_pred.sources
    assert source.runtime == "onnx" and source.path == str(onnx_file) and len(source.sha256 or "") == 64


def test_onnx_runs_with_onnxruntime_and_json_only(onnx_file: Path, model_file: Path, tmp_path: Path) -> None:
    x = _patches(1, PATCH, seed=5)
    np.save(tmp_path / "x.npy", x)
    code = f"""
import json, sys
import numpy as np, onnxruntime as ort
side = json.load(open({str(onnx_file) + ".json"!r}))
sess = ort.InferenceSession({str(onnx_file)!r}, providers=["CPUExecutionProvider"])
x = np.load({str(tmp_path / "x.npy")!r})
(p,) = sess.run([side["output"]["name"]], {{side["input"]["name"]: x}})
np.save({str(tmp_path / "p.npy")!r}, p)
ndvi = [side["norm_factors"]["ndvi"], side["encodings"]["ndvi"]]
print(json.dumps([side["bands"], side["patch_size"], *ndvi]))
assert not any(m.startswith("darts") for m in sys.modules), "a darts module was imported"
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    bands, patch, ndvi_factor, ndvi_encoding = json.loads(out)
    assert bands == list(BANDS) and patch == PATCH and ndvi_factor == pytest.approx(1 / 20000)
    assert ndvi_encoding == {"encoding": "(ndvi + 1) * 1e4", "offset": 1.0, "scale": 1e4}
    expected = load_predictor([model_file], device="cpu", precision="fp32").predict_patches(x)
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), expected, atol=1e-4, rtol=0)


def test_sidecar_names_the_source_model_and_version(model_file: Path, onnx_file: Path) -> None:
    import hashlib

    side = read_sidecar(onnx_file)
    assert side.format == "onnx" and side.spatial_multiple == 32 and side.opset is not None
    assert side.source_model["sha256"] == hashlib.sha256(model_file.read_bytes()).hexdigest()
    assert side.model["arch"] == "Unet" and side.model["encoder_name"] == ENCODER
    assert side.dynamic_axes == ["batch", "height", "width"] and side.darts_version


def test_torchscript_equals_torch_and_loads_without_darts(model_file: Path, tmp_path: Path) -> None:
    result = export_model(model_file, tmp_path / "m.pt", format="torchscript")
    assert result.max_abs_diff <= 1e-4 and result.sidecar.format == "torchscript"
    x = _patches(2, PATCH, seed=2)
    np.save(tmp_path / "x.npy", x)
    code = f"""
import json, sys
import numpy as np, torch
side = json.load(open({str(result.sidecar_path)!r}))
m = torch.jit.load({str(result.path)!r})
with torch.no_grad():
    p = m(torch.from_numpy(np.load({str(tmp_path / "x.npy")!r}))).numpy()
np.save({str(tmp_path / "p.npy")!r}, p)
assert side["bands"] == {list(BANDS)!r}
assert not any(m.startswith("darts") for m in sys.modules), "a darts module was imported"
"""
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    expected = load_predictor([model_file], device="cpu", precision="fp32").predict_patches(x)
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), expected, atol=1e-4, rtol=0)


def test_unsupported_architecture_is_a_clear_error(tmp_path: Path) -> None:
    # PSPNet's adaptive pooling cannot be exported to ONNX with dynamic height and width
    path = _model_file(tmp_path, arch="PSPNet", encoder="resnet18", patch=64)
    out = tmp_path / "pspnet.onnx"
    with pytest.raises(ExportError, match=r"cannot export PSPNet/resnet18 to onnx: .*adaptive_avg_pool2d"):
        export_model(path, out, format="onnx")
    assert list(tmp_path.iterdir()) == [path]  # no half-written file or sidecar


def test_export_refuses_to_overwrite(model_file: Path, onnx_file: Path) -> None:
    before = onnx_file.stat().st_mtime_ns
    with pytest.raises(CheckpointExistsError, match=r"\.onnx already exists"):
        export_model(model_file, onnx_file, format="onnx")
    assert onnx_file.stat().st_mtime_ns == before


def test_onnx_runtime_needs_the_sidecar(onnx_file: Path, tmp_path: Path) -> None:
    from darts_core.errors import DartsError

    lonely = tmp_path / "lonely.onnx"
    lonely.write_bytes(onnx_file.read_bytes())
    with pytest.raises(DartsError, match=r"lonely\.onnx\.json does not exist"):
        load_predictor([lonely], runtime="onnx", device="cpu")
    with pytest.raises(DartsError, match="load it with runtime 'onnx'"):
        load_predictor([lonely], device="cpu")


def test_a_missing_onnxruntime_names_the_extra(onnx_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from darts_core.errors import DartsError

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` raises ImportError
    with pytest.raises(
        DartsError, match=r"needs the package onnxruntime; install the optional extra darts-models\[onnx\]"
    ):
        load_predictor([onnx_file], runtime="onnx", device="cpu")
