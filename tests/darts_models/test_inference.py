"""Whole-scene inference: blending equals a full-frame pass, NaN handling, georeferencing, bf16."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rioxarray  # noqa: F401  (registers .rio)
import torch
import xarray as xr
from affine import Affine

from darts_core.errors import DartsError
from darts_models import (
    DeployableModelConfig,
    LoadedModel,
    ModelSpec,
    TorchPredictor,
    build_model,
    predict_array,
    save_deployable_checkpoint,
    segment_scene,
)

BANDS = ("blue", "green", "red", "nir")
FACTOR = 1 / 4000  # deliberately not the registry's 1/3000: the file's factors must be used
TRANSFORM = Affine(3.0, 0.0, 500_000.0, 0.0, -3.0, 7_600_000.0)


def _scene(h: int, w: int, seed: int = 0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    ys = TRANSFORM.f + (np.arange(h) + 0.5) * TRANSFORM.e
    xs = TRANSFORM.c + (np.arange(w) + 0.5) * TRANSFORM.a
    from scipy import ndimage

    data = {}
    for b in BANDS:
        smooth = ndimage.gaussian_filter(rng.random((h, w)), 3.0)
        smooth = (smooth - smooth.min()) / (smooth.max() - smooth.min())
        data[b] = (("y", "x"), (smooth * 4400 + rng.normal(0, 50, (h, w))).astype(np.float32))  # some > 4000
    ds = xr.Dataset(data, coords={"y": ys, "x": xs})
    return ds.rio.write_crs("EPSG:3413").rio.write_transform(TRANSFORM)


def _loaded(model: torch.nn.Module) -> LoadedModel:
    config = DeployableModelConfig(
        input_combination=BANDS,
        model=ModelSpec(arch="Unet", encoder_name="resnet18", in_channels=len(BANDS)),
        norm_factors=dict.fromkeys(BANDS, FACTOR),
        name="tiny-fcn",
    )
    return LoadedModel(model=model.eval(), config=config)


def _full_frame(model: torch.nn.Module, scene: xr.Dataset) -> np.ndarray:
    x = np.stack([np.clip(scene[b].values.astype(np.float64) * FACTOR, 0, 1) for b in BANDS]).astype(
        np.float32
    )
    x = np.nan_to_num(x, nan=0.0)
    with torch.no_grad():
        return torch.sigmoid(model(torch.from_numpy(x)[None]))[0, 0].numpy()


@pytest.mark.parametrize(
    ("h", "w", "patch", "overlap"), [(75, 53, 32, 12), (20, 27, 32, 12), (64, 40, 40, 16)]
)
def test_patches_blend_to_the_full_frame_prediction(
    tiny_fcn, h: int, w: int, patch: int, overlap: int
) -> None:
    model = tiny_fcn(len(BANDS))
    scene = _scene(h, w)
    probs = segment_scene(_loaded(model), scene, patch_size=patch, overlap=overlap, batch_size=3)
    expected = _full_frame(model, scene)
    r = 3  # receptive radius: there the full frame sees zero padding, the scene pass reflected pixels
    assert probs.dtype == np.float32 and probs.shape == (h, w)
    np.testing.assert_allclose(probs.values[r:-r, r:-r], expected[r:-r, r:-r], atol=1e-5, rtol=0)
    assert np.all(np.isfinite(probs.values))


def test_nan_areas_come_out_nan_and_georeference_is_kept(tiny_fcn) -> None:
    model = tiny_fcn(len(BANDS))
    scene = _scene(50, 61)
    scene["red"][10:20, 5:15] = np.nan
    scene["nir"][40:, 55:] = np.nan
    probs = segment_scene(_loaded(model), scene, patch_size=32, overlap=12)
    nodata = np.isnan(scene["red"].values) | np.isnan(scene["nir"].values)
    assert np.array_equal(np.isnan(probs.values), nodata)
    # elsewhere the network saw 0 where the input was NaN, as in the full-frame pass
    expected = _full_frame(model, scene)
    far = ~ndimage_dilate(nodata, 4)
    far[:3], far[-3:], far[:, :3], far[:, -3:] = False, False, False, False
    np.testing.assert_allclose(probs.values[far], expected[far], atol=1e-5)
    assert probs.rio.crs.to_epsg() == 3413
    geotransform = [float(v) for v in probs.spatial_ref.attrs["GeoTransform"].split()]
    assert Affine.from_gdal(*geotransform) == TRANSFORM
    assert np.array_equal(probs.x.values, scene.x.values) and np.array_equal(probs.y.values, scene.y.values)
    assert probs.attrs["model"] == "tiny-fcn"


def ndimage_dilate(mask: np.ndarray, px: int) -> np.ndarray:
    from scipy import ndimage

    return ndimage.binary_dilation(mask, np.ones((3, 3), bool), iterations=px)


def test_from_a_model_file(tmp_path: Path) -> None:
    torch.manual_seed(1)
    net = build_model("Unet", "resnet18", None, in_channels=len(BANDS)).eval()
    path = tmp_path / "rts.ckpt"
    save_deployable_checkpoint(
        path, net.state_dict(), _loaded(net).config.model_copy(update={"patch_size": 32})
    )
    scene = _scene(40, 36)
    from_file = segment_scene(path, scene, overlap=8, batch_size=4)
    from_loaded = segment_scene(_loaded(net), scene, patch_size=32, overlap=8, batch_size=4)
    assert from_file.shape == (40, 36)
    np.testing.assert_allclose(from_file.values, from_loaded.values, atol=1e-6)
    assert np.all((from_file.values >= 0) & (from_file.values <= 1))


def test_bf16_channels_last_agrees_with_fp32(tiny_fcn) -> None:
    model = tiny_fcn(len(BANDS), seed=2)
    scene = _scene(64, 64, seed=3)
    x = np.stack([np.clip(scene[b].values * FACTOR, 0, 1) for b in BANDS]).astype(np.float32)
    fp32 = predict_array(model, x, 32, 8, precision="fp32", channels_last=False)
    bf16 = predict_array(model, x, 32, 8, precision="bf16", channels_last=True)
    a, b = fp32 > 0.5, bf16 > 0.5
    assert 0.2 < a.mean() < 0.8  # a non-trivial mask
    assert (a & b).sum() / (a | b).sum() >= 0.99
    assert 0 < np.abs(fp32 - bf16).max() < 0.1  # bf16 really ran, and stayed close


def test_tiny_and_all_nan_scenes(tiny_fcn) -> None:
    model = _loaded(tiny_fcn(len(BANDS)))
    one_row = segment_scene(model, _scene(1, 9), patch_size=16, overlap=4)
    assert one_row.shape == (1, 9) and np.all(np.isfinite(one_row.values))
    empty = _scene(10, 10)
    empty["blue"][:] = np.nan
    assert np.all(np.isnan(segment_scene(model, empty, patch_size=16, overlap=4).values))


@pytest.mark.gpu
def test_cuda_auto_precision_agrees_with_cpu(tiny_fcn) -> None:
    model = tiny_fcn(len(BANDS), seed=2)
    scene = _scene(96, 80, seed=4)
    x = np.stack([np.clip(scene[b].values * FACTOR, 0, 1) for b in BANDS]).astype(np.float32)
    cpu = predict_array(model, x, 32, 8, precision="fp32", channels_last=False)
    cuda = predict_array(model, x, 32, 8, device="cuda", precision="auto")
    a, b = cpu > 0.5, cuda > 0.5
    assert (a & b).sum() / (a | b).sum() >= 0.99


def test_bad_arguments_are_reported(tiny_fcn) -> None:
    model = _loaded(tiny_fcn(len(BANDS)))
    with pytest.raises(DartsError, match="overlap"):
        segment_scene(model, _scene(20, 20), patch_size=32, overlap=16)
    with pytest.raises(DartsError, match="nir"):
        segment_scene(model, _scene(20, 20).drop_vars("nir"), patch_size=32, overlap=8)


@pytest.mark.parametrize(("h", "w", "overlap", "patch"), [(40, 33, 8, 32), (5, 70, 12, 32), (1, 9, 4, 16)])
def test_in_place_reflection_padding_equals_numpy_pad(h: int, w: int, overlap: int, patch: int) -> None:
    from darts_models.inference import _padding_buffer, _reflect_in_place

    x = np.random.default_rng(0).random((3, h, w), dtype=np.float32)
    buf = _padding_buffer(3, h, w, patch, overlap)
    buf[:, overlap : overlap + h, overlap : overlap + w] = x
    _reflect_in_place(buf, overlap, h, w)
    bottom, right = buf.shape[1] - overlap - h, buf.shape[2] - overlap - w
    expected = np.pad(x, ((0, 0), (overlap, bottom), (overlap, right)), mode="reflect")
    np.testing.assert_array_equal(buf, expected)


def test_scene_inference_holds_about_one_copy_of_the_band_stack(tiny_fcn) -> None:
    import tracemalloc

    h = w = 300
    scene = _scene(h, w)
    predictor = TorchPredictor(_loaded(tiny_fcn(len(BANDS))), "cpu", "fp32")
    segment_scene(predictor, scene, patch_size=32, overlap=8, batch_size=2)  # warm caches
    tracemalloc.start()
    segment_scene(predictor, scene, patch_size=32, overlap=8, batch_size=2)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    stack = len(BANDS) * h * w * 4
    # padded stack (1.1x) + accumulator and weights (2/4 x) + mask, result: well under 3x, over 1x
    assert 1.0 < peak / stack < 2.0


def test_release_bands_frees_the_physical_stack_and_changes_nothing(tiny_fcn) -> None:
    """``release_bands`` drops each band from the scene once normalised: the same probabilities,
    and a peak of about one band stack less while the patches are predicted."""
    import gc
    import tracemalloc

    h = w = 256
    predictor = TorchPredictor(_loaded(tiny_fcn(len(BANDS))), "cpu", "fp32")
    kw = {"patch_size": 32, "overlap": 8, "batch_size": 64}  # the batch outweighs the stack
    segment_scene(predictor, _scene(h, w), **kw)  # warm caches
    peaks, results = [], []
    for release in (False, True):
        tracemalloc.start()
        scene = _scene(h, w).assign(valid=(("y", "x"), np.ones((h, w), dtype=bool)))
        gc.collect()  # the helper's intermediate datasets (cycles through .rio) share the bands
        tracemalloc.reset_peak()  # the scene is traced (its release counts), its making is not
        results.append(segment_scene(predictor, scene, release_bands=release, **kw))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert set(scene.data_vars) == ({"valid"} if release else {*BANDS, "valid"})
    np.testing.assert_array_equal(results[0].values, results[1].values)
    assert results[1].rio.crs == results[0].rio.crs and results[1].rio.transform() == TRANSFORM
    stack = len(BANDS) * h * w * 4
    assert peaks[1] < peaks[0] - 0.8 * stack, (peaks, stack)


class _FirstBand:
    """A pixelwise 'network': the first normalised band is the probability."""

    def predict_patches(self, patches: np.ndarray) -> np.ndarray:
        return patches[:, 0].copy()


@pytest.mark.parametrize(
    ("h", "w", "patch", "overlap"), [(75, 53, 32, 12), (130, 97, 48, 16), (9, 40, 16, 4)]
)
def test_blend_weights_sum_to_one_everywhere(h: int, w: int, patch: int, overlap: int) -> None:
    """For a pixelwise predictor the blend must return its value at every pixel: the (separable)
    summed weights divide out exactly, at patch edges, corners and the last, shifted patches."""
    from darts_models import predict_array

    x = np.random.default_rng(1).uniform(0, 1, (3, h, w)).astype(np.float32)
    probs = predict_array(_FirstBand(), x, patch, overlap, batch_size=5)
    np.testing.assert_allclose(probs, x[0], rtol=1e-6, atol=1e-7)
