"""``convert_lightning_checkpoint``: a train-smp checkpoint to the deployable model file.

The file format is documented in docs/formats/checkpoint.md.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

import torch

from darts_core.errors import CheckpointError
from darts_train.checkpoint_file import read_checkpoint
from darts_train.config import ConvertConfig
from darts_train.errors import RunExistsError
from darts_train.module import PROVENANCE_KEY

log = logging.getLogger(__name__)

MODEL_PREFIX = "model."
_REQUIRED_HPARAMS = ("model_arch", "model_encoder", "bands", "norm_factors")


def deployable_path(config: ConvertConfig, today: date | None = None) -> Path:
    """``{out_directory}/{checkpoint_name}_{YYYY-MM-DD}.ckpt``."""
    day = today or date.today()
    return Path(config.out_directory) / f"{config.checkpoint_name}_{day:%Y-%m-%d}.ckpt"


def _load(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise CheckpointError(f"Lightning checkpoint {path} does not exist")
    ckpt = read_checkpoint(path)
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        hint = " (already a deployable file?)" if isinstance(ckpt, dict) and "statedict" in ckpt else ""
        raise CheckpointError(f"{path} has no 'state_dict'; it is not a Lightning checkpoint{hint}")
    hparams = ckpt.get("hyper_parameters") or {}
    missing = [k for k in _REQUIRED_HPARAMS if k not in hparams]
    if missing:
        raise CheckpointError(f"{path}: hyper_parameters lack {missing}; it was not written by train-smp")
    return ckpt


def _model_weights(state_dict: dict[str, torch.Tensor], path: Path) -> dict[str, torch.Tensor]:
    weights = {k.removeprefix(MODEL_PREFIX): v for k, v in state_dict.items() if k.startswith(MODEL_PREFIX)}
    if not weights:
        raise CheckpointError(f"{path}: no weights under the {MODEL_PREFIX!r} prefix in state_dict")
    return weights


def _provenance(ckpt: dict[str, Any], source: Path) -> dict[str, Any]:
    hparams = ckpt["hyper_parameters"]
    run = dict(hparams.get("run") or {})
    saved = ckpt.get(PROVENANCE_KEY) or {}
    return {
        "lightning_checkpoint": str(source.resolve()),
        "run_name": run.get("run_name"),
        "run_id": run.get("run_id"),
        "trial_name": run.get("trial_name"),
        "random_seed": run.get("random_seed"),
        "fold": run.get("fold"),
        "final_retrain": run.get("final_retrain"),
        "epoch": saved.get("epoch", ckpt.get("epoch")),
        "global_step": ckpt.get("global_step"),
        "metrics": saved.get("metrics", {}),
        "dataset": run.get("dataset"),
        "versions": run.get("versions"),
        "git_commit": run.get("git_commit"),
        "hparams": {k: v for k, v in hparams.items() if k != "run"},
    }


def convert_lightning_checkpoint(config: ConvertConfig) -> Path:
    """Write the deployable file ``{checkpoint_name}_{YYYY-MM-DD}.ckpt`` and return its path.

    The file holds the network weights (without the ``model.`` prefix), the bands, norm factors
    and model spec, and provenance: run name/id, seed, the metrics stored with the checkpoint (the
    best epoch's, for the best checkpoint), the dataset fingerprint and library versions.
    Refuses to overwrite an existing file unless ``config.overwrite``.
    """
    from darts_models.checkpoint import DeployableModelConfig, ModelSpec, save_deployable_checkpoint

    source = Path(config.lightning_checkpoint)
    ckpt = _load(source)
    out = deployable_path(config)
    if out.exists() and not config.overwrite:
        raise RunExistsError(
            f"{out} already exists; choose another --checkpoint-name or pass --overwrite "
            "(overwrite = true in the config file)"
        )
    hparams = ckpt["hyper_parameters"]
    bands = list(hparams["bands"])
    run = hparams.get("run") or {}
    deployable = DeployableModelConfig(
        input_combination=tuple(bands),
        model=ModelSpec(
            arch=hparams["model_arch"], encoder_name=hparams["model_encoder"], in_channels=len(bands)
        ),
        norm_factors={b: float(hparams["norm_factors"][b]) for b in bands},
        name=config.checkpoint_name,
        model_framework=config.framework,
        patch_size=run.get("patch_size"),
        provenance=_provenance(ckpt, source),
    )
    path = save_deployable_checkpoint(
        out, _model_weights(ckpt["state_dict"], source), deployable, overwrite=config.overwrite
    )
    log.info("converted %s -> %s", source, path)
    return path
