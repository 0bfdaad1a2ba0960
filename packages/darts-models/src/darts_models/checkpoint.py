"""The deployable model file (docs/formats/checkpoint.md): ``{"config": {...}, "statedict": {...}}``.

The same format the reference project's inference loads: ``config`` holds plain Python values only
(``input_combination``, ``model`` {arch, encoder_name, in_channels, classes}, ``norm_factors``, ``time``,
``name``, ``model_framework``, ``patch_size``, ``provenance``) and ``statedict`` the network weights
without Lightning's ``model.`` prefix. Files are read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from torch import nn

from darts_core.atomic import write_atomically
from darts_core.errors import CheckpointError
from darts_models.errors import CheckpointExistsError, CheckpointNotFoundError
from darts_models.factory import build_model

logger = logging.getLogger(__name__)

_PREFIXES = ("model.", "_orig_mod.")  # Lightning module attribute, torch.compile wrapper


def save_torch_atomically(obj: Any, path: str | os.PathLike[str], *, overwrite: bool = True) -> Path:
    """``torch.save(obj)`` to ``path`` atomically (see :func:`darts_core.atomic.write_atomically`)."""
    return write_atomically(path, lambda fh: torch.save(obj, fh), overwrite=overwrite)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ModelSpec(BaseModel):
    """Enough to rebuild the network with ``segmentation_models_pytorch.create_model``."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    arch: str
    """smp architecture, e.g. ``Unet``."""
    encoder_name: str
    """smp encoder, or ``tu-<timm model>``."""
    in_channels: int = Field(ge=1)
    """Number of input bands."""
    classes: int = Field(default=1, ge=1)
    """Output channels (1: binary RTS logits)."""


class DeployableModelConfig(BaseModel):
    """The ``config`` of a deployable model file."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    input_combination: tuple[str, ...] = Field(min_length=1)
    """Band names in the order the network expects them."""
    model: ModelSpec
    """Architecture, encoder, channels."""
    norm_factors: dict[str, float]
    """Norm factor of every band of ``input_combination`` (travels with the weights)."""
    name: str
    """Checkpoint name, e.g. ``rts-unet``."""
    time: str = Field(default_factory=_now)
    """When the file was made (the reference writes ``YYYY-MM-DD``; darts writes ISO 8601 UTC)."""
    model_framework: Literal["smp"] = "smp"
    """Only segmentation_models_pytorch models exist."""
    patch_size: int | None = Field(default=None, ge=1)
    """Patch size in pixels the model was trained on (default patch size of scene inference)."""
    provenance: dict[str, Any] = Field(default_factory=dict)
    """Plain values saying where the weights came from: run name/id, training set, hparams, versions."""

    @model_validator(mode="after")
    def _bands_consistent(self) -> DeployableModelConfig:
        if len(self.input_combination) != self.model.in_channels:
            raise ValueError(
                f"input_combination has {len(self.input_combination)} bands but model.in_channels is "
                f"{self.model.in_channels}"
            )
        missing = [b for b in self.input_combination if b not in self.norm_factors]
        if missing:
            raise ValueError(f"norm_factors lacks band(s) {missing}")
        return self

    def to_plain(self) -> dict[str, Any]:
        """Plain-typed dict (str/int/float/list/dict/None) as stored in the file."""
        return self.model_dump(mode="json")

    @classmethod
    def from_plain(cls, config: Mapping[str, Any], source: str = "<config>") -> DeployableModelConfig:
        """Parse a stored config; unknown top-level keys (the reference stores its hparams there) and
        unknown model keys are kept under ``provenance["extra_config"]``."""
        for key in ("input_combination", "model", "norm_factors"):
            if key not in config:
                raise CheckpointError(f"{source}: config lacks the key {key!r} (found: {sorted(config)})")
        model = config["model"]
        if not isinstance(model, Mapping):
            raise CheckpointError(f"{source}: config['model'] must be a table, got {type(model).__name__}")
        for key in ("arch", "encoder_name", "in_channels"):
            if key not in model:
                raise CheckpointError(
                    f"{source}: config['model'] lacks the key {key!r} (found: {sorted(model)})"
                )
        known = set(cls.model_fields)
        model_known = set(ModelSpec.model_fields)
        data = {k: v for k, v in config.items() if k in known}
        data["model"] = {k: v for k, v in model.items() if k in model_known}
        extra = {k: v for k, v in config.items() if k not in known}
        model_extra = {k: v for k, v in model.items() if k not in model_known}
        if model_extra:
            extra["model"] = model_extra
        if extra:
            data["provenance"] = {**dict(config.get("provenance") or {}), "extra_config": extra}
        data.setdefault("name", Path(source).stem)
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise CheckpointError(f"{source}: invalid model config: {err}") from err


@dataclass(frozen=True)
class LoadedModel:
    """A network in eval mode on its device, with the config it came with."""

    model: nn.Module
    config: DeployableModelConfig


def clean_state_dict(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Strip a prefix every key shares (``model.`` from Lightning, ``_orig_mod.`` from torch.compile);
    tensors are detached, contiguous and on the CPU."""
    sd = dict(state_dict)
    for prefix in _PREFIXES:
        if sd and all(k.startswith(prefix) for k in sd):
            sd = {k.removeprefix(prefix): v for k, v in sd.items()}
    return {k: v.detach().cpu().contiguous() for k, v in sd.items()}


def save_deployable_checkpoint(
    path: str | os.PathLike[str],
    state_dict: Mapping[str, torch.Tensor],
    config: DeployableModelConfig,
    *,
    overwrite: bool = False,
) -> Path:
    """Write the deployable model file atomically (temp file, then rename); never overwrites silently.

    Raises :class:`CheckpointExistsError` when ``path`` exists and ``overwrite`` is false, and
    :class:`~darts_models.errors.DiskFullError` ("disk full at PATH") when the disk fills up; no
    partial file is left under ``path`` either way.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise CheckpointExistsError(f"{path} already exists; choose another name or pass overwrite=True")
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"config": config.to_plain(), "statedict": clean_state_dict(state_dict)}
    try:  # without overwrite, a file created at ``path`` meanwhile is never replaced
        save_torch_atomically(payload, path, overwrite=overwrite)
    except FileExistsError as err:
        raise CheckpointExistsError(f"{path} was created while writing; not overwriting it") from err
    logger.info("wrote deployable model %s (%s)", path, config.name)
    return path


def load_model_payload(path: str | os.PathLike[str], what: str = "a model file") -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU; a :class:`CheckpointError` naming the file
    and ``what`` was expected when torch cannot read it (a truncated file, non-plain objects, a
    TorchScript export)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises UnpicklingError, RuntimeError, EOFError, ...
        raise CheckpointError(
            f"{path}: cannot read as {what} with torch.load(weights_only=True) (a truncated file, "
            f"non-plain objects, or a TorchScript export?): {err}"
        ) from err


def _network_with_weights(spec: ModelSpec, state_dict: Mapping[str, torch.Tensor]) -> torch.nn.Module:
    """The network of ``spec`` holding ``state_dict``, built without initialising weights first.

    The layers are created on the meta device and take the file's tensors as they are (no random
    initialisation that the file's weights replace at once); a network with a tensor the file does not
    hold (a non-persistent buffer) is built the ordinary way instead.
    """
    with torch.device("meta"):
        model = build_model(spec.arch, spec.encoder_name, None, spec.in_channels, spec.classes)
    model.load_state_dict(state_dict, strict=True, assign=True)
    if any(t.is_meta for t in (*model.parameters(), *model.buffers())):
        model = build_model(spec.arch, spec.encoder_name, None, spec.in_channels, spec.classes)
        model.load_state_dict(state_dict, strict=True)
    return model


def build_loaded_model(
    config: DeployableModelConfig, state_dict: Mapping[str, torch.Tensor], path: str | os.PathLike[str]
) -> LoadedModel:
    """The network ``config.model`` describes with ``state_dict`` loaded strictly, in eval mode on
    the CPU; a :class:`CheckpointError` naming ``path`` when the weights do not fit it."""
    spec = config.model
    try:
        model = _network_with_weights(spec, state_dict)
    except RuntimeError as err:
        raise CheckpointError(
            f"{path}: weights do not fit {spec.arch}/{spec.encoder_name} "
            f"with {spec.in_channels} input bands: {err}"
        ) from err
    return LoadedModel(model=model.eval(), config=config)


def read_deployable_checkpoint(
    path: str | os.PathLike[str],
) -> tuple[DeployableModelConfig, dict[str, torch.Tensor]]:
    """Config and (cleaned) state dict of a deployable model file, without building the network."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointNotFoundError(f"deployable model file {path} does not exist")
    payload = load_model_payload(path, "a deployable model file")
    if not isinstance(payload, Mapping):
        raise CheckpointError(
            f"{path}: expected a dict with 'config' and 'statedict', got {type(payload).__name__}"
        )
    for key in ("config", "statedict"):
        if key not in payload:
            hint = (
                " (a Lightning checkpoint? convert it with convert-lightning-checkpoint)"
                if "state_dict" in payload
                else ""
            )
            raise CheckpointError(f"{path}: missing key {key!r}; found {sorted(payload)}{hint}")
    config = DeployableModelConfig.from_plain(payload["config"], source=str(path))
    return config, clean_state_dict(payload["statedict"])


def load_deployable_checkpoint(
    path: str | os.PathLike[str], device: str | torch.device = "cpu"
) -> LoadedModel:
    """Rebuild the network of a deployable model file (ours or the reference's) on ``device``, in eval mode.

    Raises :class:`CheckpointNotFoundError` for a missing file and :class:`CheckpointError` naming the missing
    key of a malformed one, or the mismatch when the weights do not fit the described network.
    """
    config, state_dict = read_deployable_checkpoint(path)
    loaded = build_loaded_model(config, state_dict, path)
    loaded.model.to(device)
    return loaded
