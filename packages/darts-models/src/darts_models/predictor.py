"""Predictors: what whole-scene inference calls to turn normalised patches into RTS probabilities.

A predictor maps a float32 batch ``[N, C, H, W]`` of normalised, NaN-free patches (bands in the
order of ``config.input_combination``) to float32 probabilities ``[N, H, W]``. It is made once
(one model load) and reused for every scene. Implementations:

- :class:`TorchPredictor`: one torch network on a device, fp32 or bf16 autocast;
- :class:`FlipTTAPredictor`: test-time augmentation, the mean over four flips of another predictor;
- :class:`EnsemblePredictor`: the mean of the probabilities of several predictors that agree on
  bands, band encodings and norm factors;
- :class:`darts_models.onnx_runtime.OnnxPredictor`: an exported ONNX file run by onnxruntime.

:func:`darts_models.loading.load_predictor` builds them from model files.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import torch

from darts_core.bands import BANDS, check_bands
from darts_core.errors import DartsInputError
from darts_models.checkpoint import DeployableModelConfig, LoadedModel
from darts_models.cpu_features import cpu_has_native_bf16

logger = logging.getLogger(__name__)

Precision = Literal["auto", "fp32", "bf16"]
"""``auto``: bf16 autocast on CUDA devices that support it, fp32 elsewhere; ``bf16`` forces bf16
autocast (also on the CPU); ``fp32`` never autocasts."""

Runtime = Literal["torch", "onnx"]


@dataclass(frozen=True)
class ModelSource:
    """Where a predictor's weights came from (for run records such as ``run.json``)."""

    name: str
    """The model's name (``config.name``)."""
    runtime: Runtime
    """``torch`` or ``onnx``."""
    path: str | None = None
    """The model file, if the predictor was loaded from one."""
    sha256: str | None = None
    """SHA-256 of that file."""
    kind: str = "deployable"
    """``deployable``, ``lightning``, ``onnx`` or ``module`` (built in memory)."""


@runtime_checkable
class PatchPredictor(Protocol):
    """Anything that turns normalised patches into probabilities."""

    def predict_patches(self, patches: np.ndarray) -> np.ndarray:
        """float32 ``[N, C, H, W]`` normalised, NaN-free -> float32 probabilities ``[N, H, W]``."""
        ...


@runtime_checkable
class Predictor(PatchPredictor, Protocol):
    """A patch predictor that knows its model's bands, norm factors and patch size."""

    @property
    def config(self) -> DeployableModelConfig:
        """The (first) model's config: ``input_combination`` (band order), ``norm_factors``,
        ``patch_size``."""
        ...

    @property
    def encodings(self) -> Mapping[str, Mapping[str, float | str]]:
        """Per band of ``config.input_combination``: ``{"encoding", "offset", "scale"}``."""
        ...

    @property
    def sources(self) -> tuple[ModelSource, ...]:
        """The model files behind this predictor (several for an ensemble)."""
        ...


def band_encodings(bands: Sequence[str]) -> dict[str, dict[str, float | str]]:
    """The band registry's encoding of each band: ``{"encoding": formula, "offset": o, "scale": s}``."""
    return {
        b: {"encoding": BANDS[b].encoding, "offset": BANDS[b].offset, "scale": BANDS[b].scale}
        for b in check_bands(bands)
    }


def resolve_device(device: str | int | torch.device = "auto") -> torch.device:
    """``auto``: ``cuda:0`` if CUDA is available, else ``cpu``; an int (or digit string) N: ``cuda:N``."""
    if isinstance(device, torch.device):
        return device
    if isinstance(device, int) or (isinstance(device, str) and device.isdigit()):
        index = int(device)
        if not torch.cuda.is_available() or index >= torch.cuda.device_count():
            raise DartsInputError(
                f"device {device!r} asks for GPU {index} but torch sees {torch.cuda.device_count()} "
                "CUDA device(s); use 'cpu' or 'auto'"
            )
        return torch.device("cuda", index)
    if device == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except RuntimeError as err:
        raise DartsInputError(
            f"device must be 'auto', 'cpu', a GPU index or 'cuda:N', got {device!r}"
        ) from err


def resolve_precision(precision: Precision, device: torch.device) -> torch.dtype | None:
    """The autocast dtype, or None for plain fp32."""
    if precision not in ("auto", "fp32", "bf16"):
        raise DartsInputError(f"precision must be 'auto', 'fp32' or 'bf16', got {precision!r}")
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    if device.type == "cpu" and cpu_has_native_bf16():
        return torch.bfloat16
    return None


class ModuleRunner:
    """Runs a bare torch network (logits ``[N, 1, H, W]`` or ``[N, H, W]``) as a :class:`PatchPredictor`.

    Moves the network to ``device`` (and to NHWC memory format when ``channels_last``) in place, once.
    ``channels_last`` defaults to: whenever bf16 or CUDA is used.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        device: str | int | torch.device = "cpu",
        precision: Precision = "auto",
        channels_last: bool | None = None,
    ) -> None:
        self.device = resolve_device(device)
        self.autocast_dtype = resolve_precision(precision, self.device)
        if channels_last is None:
            channels_last = self.autocast_dtype is not None or self.device.type == "cuda"
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.model = model.to(device=self.device).to(memory_format=self.memory_format).eval()

    def predict_patches(self, patches: np.ndarray) -> np.ndarray:
        """float32 ``[N, C, H, W]`` -> float32 probabilities ``[N, H, W]``."""
        batch = torch.from_numpy(np.ascontiguousarray(patches, dtype=np.float32)).to(self.device)
        batch = batch.contiguous(memory_format=self.memory_format)
        with (
            torch.inference_mode(),
            torch.autocast(
                self.device.type,
                dtype=self.autocast_dtype or torch.float32,
                enabled=self.autocast_dtype is not None,
            ),
        ):
            logits = self.model(batch)
        if logits.ndim == 4:
            if logits.shape[1] != 1:
                raise DartsInputError(
                    f"the model returned {logits.shape[1]} channels; scene inference needs 1 (RTS)"
                )
            logits = logits[:, 0]
        return torch.sigmoid(logits.float()).cpu().numpy()


class DescribedModel:
    """The description one model brings to a predictor: its config (bands in order, norm factors,
    patch size), the band registry's encodings of its bands, and the file(s) behind it.

    Base of :class:`TorchPredictor` and :class:`~darts_models.onnx_runtime.OnnxPredictor`; a
    subclass calls :meth:`_describe` once in its ``__init__``.
    """

    _config: DeployableModelConfig
    _encodings: Mapping[str, Mapping[str, float | str]]
    _sources: tuple[ModelSource, ...]

    def _describe(self, config: DeployableModelConfig, source: ModelSource) -> None:
        self._config = config
        self._encodings = band_encodings(config.input_combination)
        self._sources = (source,)

    @property
    def config(self) -> DeployableModelConfig:
        """The model's config: ``input_combination`` (band order), ``norm_factors``, ``patch_size``."""
        return self._config

    @property
    def encodings(self) -> Mapping[str, Mapping[str, float | str]]:
        """Per band of ``config.input_combination``: ``{"encoding", "offset", "scale"}``."""
        return self._encodings

    @property
    def sources(self) -> tuple[ModelSource, ...]:
        """The model file behind this predictor."""
        return self._sources


class TorchPredictor(DescribedModel):
    """A deployable model's torch network on ``device`` (``auto``, ``cpu``, GPU index, ``cuda:N``)."""

    def __init__(
        self,
        loaded: LoadedModel,
        device: str | int | torch.device = "auto",
        precision: Precision = "auto",
        channels_last: bool | None = None,
        source: ModelSource | None = None,
    ) -> None:
        self._runner = ModuleRunner(loaded.model, device, precision, channels_last)
        self._describe(loaded.config, source or ModelSource(loaded.config.name, "torch", kind="module"))

    @property
    def device(self) -> torch.device:
        return self._runner.device

    @property
    def network(self) -> torch.nn.Module:
        """The torch network, on :attr:`device`, in the memory format used for inference."""
        return self._runner.model

    def predict_patches(self, patches: np.ndarray) -> np.ndarray:
        return self._runner.predict_patches(patches)


FLIP_AXES: tuple[tuple[int, ...], ...] = ((), (-1,), (-2,), (-2, -1))
"""The four views of :class:`FlipTTAPredictor` as numpy flip axes of ``[..., H, W]``: identity,
horizontal flip (x), vertical flip (y), both (= rotation by 180°). Each is its own inverse and
none needs a square patch (a transpose would)."""


class FlipTTAPredictor:
    """Test-time augmentation: the mean of ``inner``'s probabilities over the four views in
    :data:`FLIP_AXES` (identity, flip x, flip y, flip x and y), each flipped back before averaging.

    Costs four passes of ``inner``; for a network that commutes with these flips it equals one pass.
    """

    def __init__(self, inner: Predictor) -> None:
        self.inner = inner

    @property
    def config(self) -> DeployableModelConfig:
        return self.inner.config

    @property
    def encodings(self) -> Mapping[str, Mapping[str, float | str]]:
        return self.inner.encodings

    @property
    def sources(self) -> tuple[ModelSource, ...]:
        return self.inner.sources

    def predict_patches(self, patches: np.ndarray) -> np.ndarray:
        total: np.ndarray | None = None
        for axes in FLIP_AXES:
            view = np.ascontiguousarray(np.flip(patches, axes)) if axes else patches
            probs = self.inner.predict_patches(view)
            probs = np.flip(probs, axes) if axes else probs
            total = probs.astype(np.float32, copy=True) if total is None else total + probs
        assert total is not None
        return total / np.float32(len(FLIP_AXES))


def _encodings_of(predictor: Predictor) -> Mapping[str, Mapping[str, float | str]]:
    """A predictor's band encodings; the registry's for one that does not say (config + predict_patches)."""
    encodings = getattr(predictor, "encodings", None)
    return encodings if encodings is not None else band_encodings(predictor.config.input_combination)


def _check_members_agree(members: Sequence[Predictor]) -> None:
    first = members[0]
    bands = tuple(first.config.input_combination)
    for i, other in enumerate(members[1:], start=1):
        name = f"model {i} ({other.config.name})"
        ref = f"model 0 ({first.config.name})"
        other_bands = tuple(other.config.input_combination)
        if other_bands != bands:
            differing = [
                f"position {j}: {a!r} vs {b!r}"
                for j, (a, b) in enumerate(zip(bands, other_bands, strict=False))
                if a != b
            ]
            extra = sorted(set(bands) ^ set(other_bands))
            detail = "; ".join(differing + ([f"bands only in one of them: {extra}"] if extra else []))
            raise DartsInputError(
                f"ensemble members must use the same bands in the same order: {ref} has {list(bands)}, "
                f"{name} has {list(other_bands)} ({detail})"
            )
        for band in bands:
            fa, fb = float(first.config.norm_factors[band]), float(other.config.norm_factors[band])
            if not np.isclose(fa, fb, rtol=1e-9, atol=0.0):
                raise DartsInputError(
                    f"ensemble members must share norm factors: band {band!r} has {fa!r} in {ref} "
                    f"and {fb!r} in {name}"
                )
            ea, eb = dict(_encodings_of(first)[band]), dict(_encodings_of(other)[band])
            if ea != eb:
                raise DartsInputError(
                    f"ensemble members must share band encodings: band {band!r} is encoded as {ea} "
                    f"in {ref} and as {eb} in {name}"
                )


class EnsemblePredictor:
    """The mean of the probabilities of ``members``; its config is the first member's.

    Raises :class:`DartsInputError` naming the band and values when the members differ in bands (or
    their order), band encodings or norm factors.
    """

    def __init__(self, members: Sequence[Predictor]) -> None:
        if not members:
            raise DartsInputError("an ensemble needs at least one model")
        _check_members_agree(members)
        self.members = tuple(members)

    @property
    def config(self) -> DeployableModelConfig:
        return self.members[0].config

    @property
    def encodings(self) -> Mapping[str, Mapping[str, float | str]]:
        return _encodings_of(self.members[0])

    @property
    def sources(self) -> tuple[ModelSource, ...]:
        return tuple(s for m in self.members for s in getattr(m, "sources", ()))

    def predict_patches(self, patches: np.ndarray) -> np.ndarray:
        total = self.members[0].predict_patches(patches).astype(np.float32, copy=True)
        for member in self.members[1:]:
            total += member.predict_patches(patches)
        return total / np.float32(len(self.members))
