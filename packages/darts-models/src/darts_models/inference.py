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
from typing import Any

import numpy as np
import torch
import xarray as xr

from darts_core.bands import normalize_bands
from darts_core.errors import DartsInputError
from darts_models.checkpoint import LoadedModel
from darts_models.predictor import ModuleRunner, PatchPredictor, Precision, Predictor, TorchPredictor

logger = logging.getLogger(__name__)

__all__ = ["Precision", "blend_window_1d", "predict_array", "segment_scene"]


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


def _check_tiling(patch_size: int, overlap: int, batch_size: int) -> None:
    if not 0 <= 2 * overlap < patch_size:
        raise DartsInputError(
            f"overlap ({overlap}) must be >= 0 and less than half the patch size ({patch_size})"
        )
    if batch_size < 1:
        raise DartsInputError(f"batch_size must be >= 1, got {batch_size}")


def _batches(items: list[tuple[int, int]], size: int) -> Iterator[list[tuple[int, int]]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def predict_array(
    model: torch.nn.Module | PatchPredictor,
    x: np.ndarray,
    patch_size: int,
    overlap: int,
    batch_size: int = 8,
    device: str | int | torch.device = "cpu",
    precision: Precision = "auto",
    channels_last: bool | None = None,
) -> np.ndarray:
    """Probabilities float32 ``[h, w]`` for a model-ready, NaN-free float32 stack ``x`` ``[c, h, w]``.

    ``model`` is a predictor (see :mod:`darts_models.predictor`; it brings its own device and
    precision) or a bare torch network, run by a :class:`~darts_models.predictor.ModuleRunner` on
    ``device`` with ``precision``: ``"auto"`` uses bf16 autocast on CUDA devices that support it and
    on CPUs that compute bf16 natively (:func:`darts_models.cpu_features.cpu_has_native_bf16`), fp32
    elsewhere; ``"bf16"`` forces bf16 autocast (also on the CPU); ``"fp32"`` never autocasts.
    ``channels_last`` (default: whenever bf16 or CUDA is used) converts the network and inputs to NHWC
    memory format; note that this, like the move to ``device``, changes a bare network in place.
    """
    _check_tiling(patch_size, overlap, batch_size)
    predictor = (
        ModuleRunner(model, device, precision, channels_last) if isinstance(model, torch.nn.Module) else model
    )

    c, h, w = x.shape
    padded = _padding_buffer(c, h, w, patch_size, overlap)
    padded[:, overlap : overlap + h, overlap : overlap + w] = x
    _reflect_in_place(padded, overlap, h, w)
    return _blend(predictor, padded, h, w, patch_size, overlap, batch_size)


def _padding_buffer(c: int, h: int, w: int, patch_size: int, overlap: int) -> np.ndarray:
    """Uninitialised float32 ``[c, H, W]``: the scene plus ``overlap`` on every side (more at the
    bottom / right when the scene is smaller than a patch)."""
    extra_h, extra_w = max(0, patch_size - h - 2 * overlap), max(0, patch_size - w - 2 * overlap)
    return np.empty((c, h + 2 * overlap + extra_h, w + 2 * overlap + extra_w), dtype=np.float32)


def _reflect_in_place(buf: np.ndarray, start: int, h: int, w: int) -> None:
    """Fill the margin of ``buf`` around ``buf[:, start:start+h, start:start+w]`` as
    ``np.pad(..., mode="reflect")`` does (rows, then columns), without a second copy of the scene."""
    top, left = start, start
    bottom, right = buf.shape[1] - top - h, buf.shape[2] - left - w
    if max(top, bottom) > h - 1 or max(left, right) > w - 1:  # multiple reflections: tiny scene
        inner = buf[:, top : top + h, left : left + w].copy()
        buf[...] = np.pad(inner, ((0, 0), (top, bottom), (left, right)), mode="reflect")
        return
    cols = slice(left, left + w)
    end = top + h
    buf[:, :top, cols] = buf[:, top + 1 : 2 * top + 1, cols][:, ::-1]
    buf[:, end:, cols] = buf[:, end - 1 - bottom : end - 1, cols][:, ::-1]
    end = left + w
    buf[:, :, :left] = buf[:, :, left + 1 : 2 * left + 1][:, :, ::-1]
    buf[:, :, end:] = buf[:, :, end - 1 - right : end - 1][:, :, ::-1]


def _blend(
    predictor: PatchPredictor,
    padded: np.ndarray,
    h: int,
    w: int,
    patch_size: int,
    overlap: int,
    batch_size: int,
) -> np.ndarray:
    """Predict the patches of a reflection-padded stack and blend them; float32 ``[h, w]``."""
    ph, pw = padded.shape[1:]
    step = patch_size - overlap
    rows, cols = _origins(ph, patch_size, step), _origins(pw, patch_size, step)
    origins = [(r, c) for r in rows for c in cols]
    window_1d = blend_window_1d(patch_size, overlap).astype(np.float32)
    window = np.outer(window_1d, window_1d)
    acc = np.zeros((ph, pw), dtype=np.float32)
    logger.debug("scene %dx%d -> %d patches of %d px (overlap %d)", h, w, len(origins), patch_size, overlap)
    for batch_origins in _batches(origins, batch_size):
        patches = np.stack([padded[:, r : r + patch_size, c : c + patch_size] for r, c in batch_origins])
        probs = predictor.predict_patches(patches)
        del patches
        for (r, c), p in zip(batch_origins, probs, strict=True):
            acc[r : r + patch_size, c : c + patch_size] += window * p
    # the patches form a full grid of row and column origins and the window is an outer product, so
    # the summed weights are too: sum over rows x sum over columns, no scene-sized weight array
    out = acc[overlap : overlap + h, overlap : overlap + w]
    out /= _summed_window(ph, rows, window_1d)[overlap : overlap + h, None]
    out /= _summed_window(pw, cols, window_1d)[None, overlap : overlap + w]
    return out


def _summed_window(length: int, origins: list[int], window_1d: np.ndarray) -> np.ndarray:
    """float32 ``[length]``: the 1-D window summed over patch origins along one axis."""
    total = np.zeros(length, dtype=np.float32)
    for origin in origins:
        total[origin : origin + len(window_1d)] += window_1d
    return total


def _scene_values(scene: xr.Dataset, bands: tuple[str, ...]) -> tuple[dict[str, np.ndarray], tuple[str, str]]:
    missing = [b for b in bands if b not in scene.data_vars]
    if missing:
        raise DartsInputError(
            f"the scene lacks band(s) {missing} the model needs; it has {sorted(map(str, scene.data_vars))}"
        )
    dims = scene[bands[0]].dims
    if len(dims) != 2:
        raise DartsInputError(f"band {bands[0]!r} must be 2-D (y, x), got dims {dims}")
    values = {b: np.asarray(scene[b].transpose(*dims).values) for b in bands}  # no copy: cast per band later
    return values, (str(dims[0]), str(dims[1]))


def _as_predictor(
    model: str | os.PathLike[str] | LoadedModel | Predictor,
    device: str | int | torch.device,
    precision: Precision,
    channels_last: bool | None,
) -> Predictor:
    if isinstance(model, LoadedModel):
        return TorchPredictor(model, device, precision, channels_last)
    if isinstance(model, str | os.PathLike):
        from darts_models.loading import load_predictor

        return load_predictor([model], device=device, precision=precision, channels_last=channels_last)
    if isinstance(model, Predictor) or (hasattr(model, "config") and hasattr(model, "predict_patches")):
        return model
    raise DartsInputError(f"expected a model file, a LoadedModel or a Predictor, got {type(model).__name__}")


def segment_scene(
    model: str | os.PathLike[str] | LoadedModel | Predictor,
    scene: xr.Dataset,
    patch_size: int | None = None,
    overlap: int = 64,
    batch_size: int = 8,
    device: str | int | torch.device = "cpu",
    precision: Precision = "auto",
    channels_last: bool | None = None,
    release_bands: bool = False,
) -> xr.DataArray:
    """RTS probabilities (float32, NaN where any input band is NaN) of a whole scene.

    ``model`` is a :class:`~darts_models.predictor.Predictor` (from
    :func:`~darts_models.loading.load_predictor`: load it once, reuse it for every scene; ``device``,
    ``precision`` and ``channels_last`` are then ignored), or a model file / :class:`LoadedModel`
    wrapped in a :class:`~darts_models.predictor.TorchPredictor` on ``device`` for this call.

    ``scene`` holds physical band values (as preprocessing produces them before normalisation), one
    2-D variable per band of the model's ``input_combination``. They are normalised with the model
    file's norm factors by :func:`darts_core.bands.normalize_bands` (the function that made the
    training set), NaN set to 0 for the network, then predicted by :func:`predict_array`.
    ``patch_size`` defaults to the file's training patch size, else 1024. The result keeps the scene's
    coordinates, CRS and transform.

    ``release_bands``: delete each band variable from ``scene`` once it is normalised, so that its
    memory is freed while the patches are predicted (when nothing else holds it): for callers that
    no longer need the physical values, such as the segment commands. Peak memory is then about one
    band stack less.
    """
    predictor = _as_predictor(model, device, precision, channels_last)
    config = predictor.config
    bands = tuple(config.input_combination)
    patch_size = patch_size or config.patch_size or 1024
    _check_tiling(patch_size, overlap, batch_size)
    values, dims = _scene_values(scene, bands)
    h, w = next(iter(values.values())).shape
    coords, georef = _grid_of(scene, bands[0], dims)
    # normalise band by band straight into the padded buffer: one copy of the scene in flight
    padded = _padding_buffer(len(bands), h, w, patch_size, overlap)
    inner = padded[:, overlap : overlap + h, overlap : overlap + w]
    nodata = np.zeros((h, w), dtype=bool)
    for i, band in enumerate(bands):
        inner[i] = normalize_bands({band: values.pop(band)}, (band,), factors=config.norm_factors)[0]
        if release_bands:
            del scene[band]
        nodata |= np.isnan(inner[i])  # band by band: no [c, h, w] mask
    inner[:, nodata] = 0.0
    _reflect_in_place(padded, overlap, h, w)
    probs = _blend(predictor, padded, h, w, patch_size, overlap, batch_size)
    del padded, inner
    probs[nodata] = np.nan
    return _as_dataarray(probs, coords, georef, dims, config.name)


def _grid_of(
    scene: xr.Dataset, like: str, dims: tuple[str, str]
) -> tuple[dict[str, xr.DataArray], dict[str, Any]]:
    """The coordinates of band ``like`` on ``dims`` (not its data) and its georeferencing attributes.

    The grid-mapping coordinate (``spatial_ref``, with the CRS and GeoTransform as CF attributes, as
    rioxarray writes it) travels with the coordinates; a ``grid_mapping`` or ``crs`` attribute of the
    band or the scene is kept too, so the CRS survives without importing the GIS stack.
    """
    template = scene[like]
    coords = {str(k): v for k, v in template.coords.items() if set(v.dims) <= set(dims)}
    georef = {}
    for key in ("grid_mapping", "crs"):
        value = template.attrs.get(key, template.encoding.get(key, scene.attrs.get(key)))
        if value is not None:
            georef[key] = value
    return coords, georef


def _as_dataarray(
    probs: np.ndarray,
    coords: dict[str, xr.DataArray],
    georef: dict[str, Any],
    dims: tuple[str, str],
    name: str,
) -> xr.DataArray:
    """``probs`` on the grid of ``coords`` and ``georef`` (see :func:`_grid_of`), in plain xarray."""
    out = xr.DataArray(probs, dims=dims, coords=coords, name="probabilities")
    out.attrs.update({"long_name": "RTS probability", "units": "1", "model": name})
    out.attrs.update(georef)
    return out
