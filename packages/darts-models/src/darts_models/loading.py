"""``load_predictor``: model files (deployable, Lightning checkpoint of train-smp, or ONNX) -> a Predictor.

Each file is read and its network built once; the predictor is then reused for every scene.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import torch

from darts_core.errors import CheckpointError, DartsInputError
from darts_models.checkpoint import (
    DeployableModelConfig,
    LoadedModel,
    ModelSpec,
    build_loaded_model,
    clean_state_dict,
    load_model_payload,
)
from darts_models.errors import CheckpointNotFoundError
from darts_models.predictor import (
    EnsemblePredictor,
    FlipTTAPredictor,
    ModelSource,
    Precision,
    Predictor,
    Runtime,
    TorchPredictor,
    resolve_device,
)

logger = logging.getLogger(__name__)

TTA = Literal["none", "flips"]
_LIGHTNING_HPARAMS = ("model_arch", "model_encoder", "bands", "norm_factors")
_LIGHTNING_PREFIX = "model."


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _lightning_config(
    payload: Mapping[str, Any], path: Path
) -> tuple[DeployableModelConfig, dict[str, torch.Tensor]]:
    """Config and weights of a train-smp Lightning checkpoint (the fields convert-lightning-checkpoint
    reads), without importing Lightning."""
    hparams = payload.get("hyper_parameters") or {}
    missing = [k for k in _LIGHTNING_HPARAMS if k not in hparams]
    if missing:
        raise CheckpointError(f"{path}: hyper_parameters lack {missing}; it was not written by train-smp")
    weights = {
        k.removeprefix(_LIGHTNING_PREFIX): v
        for k, v in payload["state_dict"].items()
        if k.startswith(_LIGHTNING_PREFIX)
    }
    if not weights:
        raise CheckpointError(f"{path}: no weights under the {_LIGHTNING_PREFIX!r} prefix in state_dict")
    bands = tuple(hparams["bands"])
    run = hparams.get("run") or {}
    try:
        config = DeployableModelConfig(
            input_combination=bands,
            model=ModelSpec(
                arch=hparams["model_arch"], encoder_name=hparams["model_encoder"], in_channels=len(bands)
            ),
            norm_factors={b: float(hparams["norm_factors"][b]) for b in bands},
            name=path.stem,
            patch_size=run.get("patch_size"),
            provenance={"lightning_checkpoint": str(path)},
        )
    except (KeyError, ValueError) as err:
        raise CheckpointError(f"{path}: inconsistent train-smp hyper_parameters: {err}") from err
    return config, clean_state_dict(weights)


def read_model_file(
    path: str | os.PathLike[str],
) -> tuple[DeployableModelConfig, dict[str, torch.Tensor], str]:
    """Config, weights and kind (``deployable`` or ``lightning``) of a torch model file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointNotFoundError(f"model file {path} does not exist")
    if path.suffix == ".onnx":
        raise DartsInputError(f"{path} is an ONNX export; load it with runtime 'onnx' (--runtime onnx)")
    payload = load_model_payload(path)
    if isinstance(payload, Mapping) and "statedict" in payload and "config" in payload:
        config = DeployableModelConfig.from_plain(payload["config"], source=str(path))
        return config, clean_state_dict(payload["statedict"]), "deployable"
    if isinstance(payload, Mapping) and "state_dict" in payload:
        config, weights = _lightning_config(payload, path)
        return config, weights, "lightning"
    found = sorted(payload) if isinstance(payload, Mapping) else type(payload).__name__
    raise CheckpointError(
        f"{path}: neither a deployable model file ('config' + 'statedict') nor a train-smp Lightning "
        f"checkpoint ('state_dict' + 'hyper_parameters'); found {found}"
    )


def load_torch_model(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> LoadedModel:
    """The network of a deployable file or train-smp Lightning checkpoint on ``device``, in eval mode."""
    config, weights, _ = read_model_file(path)
    loaded = build_loaded_model(config, weights, path)
    loaded.model.to(device)
    return loaded


def _load_one(
    path: Path, runtime: Runtime, device: torch.device, precision: Precision, channels_last: bool | None
) -> Predictor:
    sha = file_sha256(path) if path.is_file() else None
    if runtime == "onnx":
        from darts_models.onnx_runtime import OnnxPredictor

        if precision == "bf16":
            raise DartsInputError("precision 'bf16' is not available with runtime 'onnx' (its graph is fp32)")
        onnx = OnnxPredictor(path, device=str(device))
        return onnx.with_source(ModelSource(onnx.config.name, "onnx", str(path), sha, "onnx"))
    config, weights, kind = read_model_file(path)
    loaded = build_loaded_model(config, weights, path)
    source = ModelSource(name=config.name, runtime="torch", path=str(path), sha256=sha, kind=kind)
    return TorchPredictor(loaded, device, precision, channels_last, source=source)


def load_predictor(
    model_files: Sequence[str | os.PathLike[str]],
    *,
    runtime: Runtime = "torch",
    device: str | int | torch.device = "auto",
    precision: Precision = "auto",
    tta: TTA = "none",
    channels_last: bool | None = None,
) -> Predictor:
    """One predictor for ``model_files``: several files make an :class:`EnsemblePredictor` (mean of
    probabilities; the models must agree on bands, encodings and norm factors), ``tta="flips"`` wraps
    it in a :class:`FlipTTAPredictor`.

    ``runtime="torch"`` takes deployable model files or train-smp Lightning checkpoints;
    ``runtime="onnx"`` takes ``.onnx`` files exported by ``darts export-model`` (with their ``.json``
    sidecar; needs the extra ``darts-models[onnx]``). ``device``: ``auto`` (``cuda:0`` if available,
    else ``cpu``), ``cpu``, a GPU index or ``cuda:N``.
    """
    if isinstance(model_files, str | os.PathLike):
        model_files = [model_files]
    if not model_files:
        raise DartsInputError("no model file given; pass at least one")
    if runtime not in ("torch", "onnx"):
        raise DartsInputError(f"runtime must be 'torch' or 'onnx', got {runtime!r}")
    if tta not in ("none", "flips"):
        raise DartsInputError(f"tta must be 'none' or 'flips', got {tta!r}")
    resolved = resolve_device(device)
    members = [_load_one(Path(p), runtime, resolved, precision, channels_last) for p in model_files]
    predictor: Predictor = members[0] if len(members) == 1 else EnsemblePredictor(members)
    if tta == "flips":
        predictor = FlipTTAPredictor(predictor)
    logger.info(
        "loaded %d model(s) (%s) on %s, tta=%s: bands %s",
        len(members),
        runtime,
        resolved,
        tta,
        list(predictor.config.input_combination),
    )
    return predictor
