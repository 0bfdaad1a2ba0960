"""Whole-scene inference: normalise, pad by reflection, predict overlapping patches, blend smoothly.

Each patch's prediction is weighted by a separable window that is 1 in the patch centre and rises as a
raised cosine across the ``overlap`` band at each patch edge. The outermost ``overlap // 4`` pixels of a
patch get weight 0 there: a convolutional network is least reliable next to its own zero padding. For a
translation-equivariant network whose receptive radius is at most ``overlap // 4`` the blend equals one
full-frame pass (away from the scene border, where reflection replaces zero padding). The
scene is first padded by ``overlap`` pixels of reflection on every side, so every scene pixel lies where
some patch's weight is 1 or ramping, never zero.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Literal

import numpy as np
import torch
import xarray as xr

from darts_models.checkpoint import LoadedModel, load_deployable_checkpoint
from darts_models.errors import DartsInputError

logger = logging.getLogger(__name__)

Precision = Literal["auto", "fp32", "bf16"]


def blend_window_1d(patch_size: int, overlap: int) -> np.ndarray:
    """Per-position weight along one patch axis (float64, in [0, 1])."""
    if overlap == 0:
        return np.ones(patch_size)
    dead = overlap // 4
    ramp = overlap - 2 * dead
    dist = np.minimum(np.arange(patch_size), np.arange(patch_size)[::-1]).astype(np.float64)
    t = np.clip((dist - dead + 0.5) / ramp, 0.0, 1.0)
    return np.where(dist < dead, 0.0, np.sin(0.5 * np.pi * t) ** 2)


def _origins(length: int, patch_size: int, step: int) -> list[int]:
    origins = list(range(0, length - patch_size + 1, step))
    if origins[-1] + patch_size < length:
        origins.append(length - patch_size)
    return origins


def _resolve_precision(precision: Precision, device: torch.device) -> torch.dtype | None:
    """The autocast dtype, or None for plain fp32."""
    if precision not in ("auto", "fp32", "bf16"):
        raise DartsInputError(f"precision must be 'auto', 'fp32' or 'bf16', got {precision!r}")
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None


def _batches(items: list[tuple[int, int]], size: int) -> Iterator[list[tuple[int, int]]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _forward(model: torch.nn.Module, batch: torch.Tensor, autocast_dtype: torch.dtype | None) -> np.ndarray:
    with torch.autocast(
        batch.device.type, dtype=autocast_dtype or torch.float32, enabled=autocast_dtype is not None
    ):
        logits = model(batch)
    if logits.ndim == 4:
        if logits.shape[1] != 1:
            raise DartsInputError(
                f"the model returned {logits.shape[1]} channels; scene inference needs 1 (RTS)"
            )
        logits = logits[:, 0]
    return torch.sigmoid(logits.float()).cpu().numpy()


def predict_array(
    model: torch.nn.Module,
    x: np.ndarray,
    patch_size: int,
    overlap: int,
    batch_size: int = 8,
    device: str | torch.device = "cpu",
    precision: Precision = "auto",
    channels_last: bool | None = None,
) -> np.ndarray:
    """Probabilities float32 ``[h, w]`` for a model-ready, NaN-free float32 stack ``x`` ``[c, h, w]``.

    ``precision``: ``"auto"`` uses bf16 autocast on CUDA devices that support it, fp32 elsewhere;
    ``"bf16"`` forces bf16 autocast (also on the CPU); ``"fp32"`` never autocasts. ``channels_last``
    (default: whenever bf16 or CUDA is used) converts the model and inputs to NHWC memory format; note that
    this, like the move to ``device``, changes ``model`` in place.
    """
    if not 0 <= 2 * overlap < patch_size:
        raise DartsInputError(
            f"overlap ({overlap}) must be >= 0 and less than half the patch size ({patch_size})"
        )
    if batch_size < 1:
        raise DartsInputError(f"batch_size must be >= 1, got {batch_size}")
    device = torch.device(device)
    autocast_dtype = _resolve_precision(precision, device)
    if channels_last is None:
        channels_last = autocast_dtype is not None or device.type == "cuda"
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(device).to(memory_format=memory_format).eval()

    _, h, w = x.shape
    extra_h, extra_w = max(0, patch_size - h - 2 * overlap), max(0, patch_size - w - 2 * overlap)
    padded = np.pad(x, ((0, 0), (overlap, overlap + extra_h), (overlap, overlap + extra_w)), mode="reflect")
    ph, pw = padded.shape[1:]
    step = patch_size - overlap
    origins = [(r, c) for r in _origins(ph, patch_size, step) for c in _origins(pw, patch_size, step)]
    window_1d = blend_window_1d(patch_size, overlap).astype(np.float32)
    window = np.outer(window_1d, window_1d)
    acc = np.zeros((ph, pw), dtype=np.float32)
    weight = np.zeros((ph, pw), dtype=np.float32)
    logger.debug("scene %dx%d -> %d patches of %d px (overlap %d)", h, w, len(origins), patch_size, overlap)
    with torch.inference_mode():
        for batch_origins in _batches(origins, batch_size):
            patches = np.stack([padded[:, r : r + patch_size, c : c + patch_size] for r, c in batch_origins])
            batch = torch.from_numpy(patches).to(device).contiguous(memory_format=memory_format)
            probs = _forward(model, batch, autocast_dtype)
            for (r, c), p in zip(batch_origins, probs, strict=True):
                acc[r : r + patch_size, c : c + patch_size] += window * p
                weight[r : r + patch_size, c : c + patch_size] += window
    inner = (slice(overlap, overlap + h), slice(overlap, overlap + w))
    return acc[inner] / weight[inner]


def _scene_values(scene: xr.Dataset, bands: tuple[str, ...]) -> tuple[dict[str, np.ndarray], tuple[str, str]]:
    missing = [b for b in bands if b not in scene.data_vars]
    if missing:
        raise DartsInputError(
            f"the scene lacks band(s) {missing} the model needs; it has {sorted(map(str, scene.data_vars))}"
        )
    dims = scene[bands[0]].dims
    if len(dims) != 2:
        raise DartsInputError(f"band {bands[0]!r} must be 2-D (y, x), got dims {dims}")
    values = {b: np.asarray(scene[b].transpose(*dims).values, dtype=np.float32) for b in bands}
    return values, (str(dims[0]), str(dims[1]))


def segment_scene(
    model_file: str | os.PathLike[str] | LoadedModel,
    scene: xr.Dataset,
    patch_size: int | None = None,
    overlap: int = 64,
    batch_size: int = 8,
    device: str | torch.device = "cpu",
    precision: Precision = "auto",
    channels_last: bool | None = None,
) -> xr.DataArray:
    """RTS probabilities (float32, NaN where any input band is NaN) of a whole scene.

    ``scene`` holds physical band values (as preprocessing produces them before normalisation), one
    2-D variable per band of the model's ``input_combination``. They are normalised with the model
    file's norm factors by :func:`darts_preprocess.bands.normalize_bands` (the function that made the
    training set), NaN set to 0 for the network, then predicted by :func:`predict_array`.
    ``patch_size`` defaults to the file's training patch size, else 1024. The result keeps the scene's
    coordinates, CRS and transform.
    """
    from darts_preprocess.bands import normalize_bands

    loaded = (
        model_file if isinstance(model_file, LoadedModel) else load_deployable_checkpoint(model_file, device)
    )
    config = loaded.config
    bands = tuple(config.input_combination)
    patch_size = patch_size or config.patch_size or 1024
    values, dims = _scene_values(scene, bands)
    x = normalize_bands(values, bands, factors=config.norm_factors)
    nodata = np.isnan(x).any(axis=0)
    x[:, nodata] = 0.0
    probs = predict_array(loaded.model, x, patch_size, overlap, batch_size, device, precision, channels_last)
    probs = probs.astype(np.float32, copy=False)
    probs[nodata] = np.nan
    return _as_dataarray(probs, scene, bands[0], dims, config.name)


def _as_dataarray(
    probs: np.ndarray, scene: xr.Dataset, like: str, dims: tuple[str, str], name: str
) -> xr.DataArray:
    import rioxarray  # noqa: F401  (registers the .rio accessor)

    template = scene[like]
    coords = {k: v for k, v in template.coords.items() if set(v.dims) <= set(dims)}
    out = xr.DataArray(probs, dims=dims, coords=coords, name="probabilities")
    out.attrs.update({"long_name": "RTS probability", "units": "1", "model": name})
    # the grid-mapping coordinate (``spatial_ref``, with its GeoTransform) travels with the coords above;
    # writing the CRS again also covers scenes whose CRS lives only in attributes
    crs = scene.rio.crs
    if crs is not None:
        out = out.rio.write_crs(crs)
    return out
