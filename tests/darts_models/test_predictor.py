"""Predictors: flip TTA, ensembles, load_predictor for deployable files and train-smp checkpoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from darts_core.errors import DartsError, DartsInputError
from darts_models import (
    DeployableModelConfig,
    EnsemblePredictor,
    FlipTTAPredictor,
    LoadedModel,
    ModelSpec,
    Predictor,
    TorchPredictor,
    build_model,
    load_predictor,
    predict_array,
    save_deployable_checkpoint,
)
from darts_models.predictor import FLIP_AXES, resolve_device

BANDS = ("blue", "green", "red", "nir")


def _config(
    bands: tuple[str, ...] = BANDS, factor: float = 1 / 3000, name: str = "m"
) -> DeployableModelConfig:
    return DeployableModelConfig(
        input_combination=bands,
        model=ModelSpec(arch="Unet", encoder_name="resnet18", in_channels=len(bands)),
        norm_factors=dict.fromkeys(bands, factor),
        name=name,
    )


def _torch(model: nn.Module, **kw: object) -> TorchPredictor:
    return TorchPredictor(LoadedModel(model=model.eval(), config=_config(**kw)), "cpu", "fp32")


def _patches(n: int = 3, h: int = 24, w: int = 20, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, len(BANDS), h, w), dtype=np.float32)


def _pointwise() -> nn.Module:
    """A 1x1 conv: commutes with every flip."""
    torch.manual_seed(1)
    return nn.Conv2d(len(BANDS), 1, 1)


def test_torch_predictor_gives_sigmoid_of_the_network(tiny_fcn) -> None:
    net = tiny_fcn(len(BANDS))
    x = _patches()
    with torch.no_grad():
        expected = torch.sigmoid(net(torch.from_numpy(x)))[:, 0].numpy()
    got = _torch(net).predict_patches(x)
    assert got.dtype == np.float32 and got.shape == (3, 24, 20)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert isinstance(_torch(net), Predictor)


def test_flip_tta_is_the_mean_of_the_flipped_back_predictions(tiny_fcn) -> None:
    net = tiny_fcn(len(BANDS), gain=0.0)  # the zero-padded 3x3 convs are not flip-symmetric
    plain = _torch(net)
    x = _patches(h=24, w=20)  # not square: the flips must not need a square patch
    manual = np.mean(
        [
            plain.predict_patches(x),
            plain.predict_patches(x[..., ::-1].copy())[..., ::-1],
            plain.predict_patches(x[..., ::-1, :].copy())[..., ::-1, :],
            plain.predict_patches(x[..., ::-1, ::-1].copy())[..., ::-1, ::-1],
        ],
        axis=0,
    )
    tta = FlipTTAPredictor(plain).predict_patches(x)
    np.testing.assert_allclose(tta, manual, atol=1e-6)
    assert np.abs(tta - plain.predict_patches(x)).max() > 1e-3  # TTA changed something
    assert len(FLIP_AXES) == 4


def test_flip_tta_of_a_flip_equivariant_model_equals_one_pass() -> None:
    plain = _torch(_pointwise())
    x = _patches()
    np.testing.assert_allclose(
        FlipTTAPredictor(plain).predict_patches(x), plain.predict_patches(x), atol=1e-6
    )


def test_ensemble_of_identical_models_equals_one_model_and_averages_different_ones(tiny_fcn) -> None:
    a, b = _torch(tiny_fcn(len(BANDS), seed=0)), _torch(tiny_fcn(len(BANDS), seed=3))
    x = _patches()
    np.testing.assert_allclose(EnsemblePredictor([a, a]).predict_patches(x), a.predict_patches(x), atol=1e-7)
    mean = (a.predict_patches(x) + b.predict_patches(x)) / 2
    np.testing.assert_allclose(EnsemblePredictor([a, b]).predict_patches(x), mean, atol=1e-7)


def test_ensemble_members_must_agree_on_bands_and_norm_factors() -> None:
    a = _torch(_pointwise())
    swapped = _torch(_pointwise(), bands=("blue", "green", "nir", "red"))
    with pytest.raises(DartsInputError, match=r"same order.*position 2: 'red' vs 'nir'"):
        EnsemblePredictor([a, swapped])
    other = _torch(nn.Conv2d(3, 1, 1), bands=("blue", "green", "ndvi"))
    with pytest.raises(DartsInputError, match=r"position 2: 'red' vs 'ndvi'.*only in one of them"):
        EnsemblePredictor([a, other])
    rescaled = _torch(_pointwise(), factor=1 / 4000, name="r")
    with pytest.raises(DartsInputError, match=r"band 'blue' has 0\.000333.* and 0\.00025 in model 1 \(r\)"):
        EnsemblePredictor([a, rescaled])


def test_predict_array_takes_a_predictor_and_equals_the_bare_network(tiny_fcn) -> None:
    net = tiny_fcn(len(BANDS))
    x = _patches(n=1, h=50, w=45)[0]
    bare = predict_array(net, x, 32, 8, batch_size=3, precision="fp32", channels_last=False)
    wrapped = predict_array(_torch(net), x, 32, 8, batch_size=3)
    np.testing.assert_array_equal(bare, wrapped)


def _save(tmp_path: Path, seed: int, patch_size: int | None = 32) -> tuple[Path, nn.Module]:
    torch.manual_seed(seed)
    net = build_model("Unet", "resnet18", None, len(BANDS))
    config = _config().model_copy(update={"patch_size": patch_size, "name": f"unet{seed}"})
    return save_deployable_checkpoint(tmp_path / f"unet{seed}.ckpt", net.state_dict(), config), net.eval()


def test_load_predictor_reads_deployable_files_and_lightning_checkpoints(tmp_path: Path) -> None:
    path, net = _save(tmp_path, 0)
    # the layout train-smp's Lightning checkpoints have: weights under `model.`, bands in hyper_parameters
    lightning = tmp_path / "epoch=1.ckpt"
    torch.save(
        {
            "state_dict": {f"model.{k}": v for k, v in net.state_dict().items()},
            "hyper_parameters": {
                "model_arch": "Unet",
                "model_encoder": "resnet18",
                "bands": list(BANDS),
                "norm_factors": dict.fromkeys(BANDS, 1 / 3000),
                "run": {"patch_size": 32},
            },
            "epoch": 1,
        },
        lightning,
    )
    x = _patches(n=2, h=32, w=32)
    with torch.no_grad():
        expected = torch.sigmoid(net(torch.from_numpy(x)))[:, 0].numpy()
    for file in (path, lightning):
        predictor = load_predictor([file], device="cpu", precision="fp32")
        assert predictor.config.input_combination == BANDS and predictor.config.patch_size == 32
        np.testing.assert_allclose(predictor.predict_patches(x), expected, atol=1e-5)
        (source,) = predictor.sources
        assert source.path == str(file) and source.sha256 is not None and len(source.sha256) == 64
    assert load_predictor([lightning], device="cpu").sources[0].kind == "lightning"


def test_load_predictor_builds_ensembles_and_tta(tmp_path: Path) -> None:
    (p0, _), (p1, _) = _save(tmp_path, 0), _save(tmp_path, 1)
    x = _patches(n=1, h=32, w=32)
    one = [load_predictor([p], device="cpu", precision="fp32").predict_patches(x) for p in (p0, p1)]
    ens = load_predictor([p0, p1], device="cpu", precision="fp32", tta="flips")
    assert isinstance(ens, FlipTTAPredictor) and isinstance(ens.inner, EnsemblePredictor)
    assert [s.name for s in ens.sources] == ["unet0", "unet1"]
    manual = np.mean(
        [
            FlipTTAPredictor(load_predictor([p], device="cpu", precision="fp32")).predict_patches(x)
            for p in (p0, p1)
        ],
        axis=0,
    )
    np.testing.assert_allclose(ens.predict_patches(x), manual, atol=1e-6)
    assert np.abs(manual - one[0]).max() > 1e-4


def test_load_predictor_rejects_bad_inputs(tmp_path: Path) -> None:
    path, _ = _save(tmp_path, 0)
    with pytest.raises(DartsInputError, match="no model file"):
        load_predictor([])
    with pytest.raises(DartsInputError, match="tta must be 'none' or 'flips', got 'rot'"):
        load_predictor([path], tta="rot")  # type: ignore[arg-type]
    with pytest.raises(DartsInputError, match="runtime must be"):
        load_predictor([path], runtime="tensorrt")  # type: ignore[arg-type]
    with pytest.raises(DartsError, match=r"missing\.ckpt does not exist"):
        load_predictor([tmp_path / "missing.ckpt"])
    garbage = tmp_path / "garbage.ckpt"
    torch.save({"weights": {}}, garbage)
    with pytest.raises(DartsInputError, match=r"garbage\.ckpt: neither a deployable model file"):
        load_predictor([garbage])


def test_resolve_device() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto") == torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(DartsInputError, match="GPU 1 but torch sees 0"):
            resolve_device(1)
        with pytest.raises(DartsInputError, match="GPU 0"):
            resolve_device("0")
    with pytest.raises(DartsInputError, match="device must be"):
        resolve_device("tpu-ish")


class _Constant:
    """A user-written predictor with only ``config`` and ``predict_patches``."""

    def __init__(self, value: float) -> None:
        self.config = _config(name=f"const{value}")
        self.value = value

    def predict_patches(self, patches: np.ndarray) -> np.ndarray:
        return np.full((len(patches), *patches.shape[-2:]), self.value, dtype=np.float32)


def test_a_duck_typed_predictor_joins_ensembles_and_segments_scenes() -> None:
    import xarray as xr

    from darts_models import segment_scene

    ens = EnsemblePredictor([_Constant(0.2), _Constant(0.6), _torch(_pointwise())])
    x = _patches(n=2)
    expected = (0.8 + _torch(_pointwise()).predict_patches(x)) / 3
    np.testing.assert_allclose(ens.predict_patches(x), expected, atol=1e-6)
    assert [s.name for s in ens.sources] == ["m"]  # only the torch member says where it came from
    scene = xr.Dataset({b: (("y", "x"), np.full((20, 30), 900.0, np.float32)) for b in BANDS})
    probs = segment_scene(_Constant(0.25), scene, patch_size=16, overlap=4)
    np.testing.assert_allclose(probs.values, 0.25, atol=1e-6)
