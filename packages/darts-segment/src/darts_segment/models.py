"""The models of a run: what they need (bands, patch size), loading them once, and their records.

:class:`ModelChoice` names the files and how to run them (runtime, device, precision, TTA); it is
small and hashable, so it travels to dask workers, each of which loads the models once
(:func:`worker_models`) and keeps them for every scene it segments.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xarray as xr

from darts_preprocess.errors import DartsInputError
from darts_preprocess.model_input import check_sensor_bands

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelChoice:
    """Model files and how to run them."""

    files: tuple[Path, ...]
    runtime: str = "torch"
    device: str = "auto"
    precision: str = "auto"
    tta: str = "none"


@dataclass(frozen=True)
class ModelNeeds:
    """What the models need from a scene: bands (in order) and their default patch size."""

    bands: tuple[str, ...]
    patch_size: int | None
    names: tuple[str, ...]


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_records(choice: ModelChoice, models: Any) -> list[dict[str, Any]]:
    """One entry per model file for run.json: path, name, SHA-256, runtime."""
    sources = getattr(models, "sources", None)
    if sources:
        return [
            {"path": s.path, "name": s.name, "sha256": s.sha256, "runtime": s.runtime, "kind": s.kind}
            for s in sources
        ]
    names = model_needs(models).names
    return [
        {"path": str(f), "name": name, "sha256": file_sha256(f), "runtime": choice.runtime}
        for f, name in zip(choice.files, names, strict=True)
    ]


def _config_of(models: Any) -> Any:
    config = getattr(models, "config", None)
    if config is None:
        raise TypeError(f"{type(models).__name__} carries no model config")
    return config


def model_needs(models: Any) -> ModelNeeds:
    """Bands and patch size of loaded models (a Predictor, a LoadedModel, or a list of them)."""
    members = models if isinstance(models, list | tuple) else [models]
    configs = [_config_of(m) for m in members]
    first = configs[0]
    return ModelNeeds(
        bands=tuple(first.input_combination),
        patch_size=first.patch_size,
        names=tuple(c.name for c in configs),
    )


def _check_ensemble(files: tuple[Path, ...], configs: list[Any]) -> None:
    first = configs[0]
    for path, config in zip(files[1:], configs[1:], strict=True):
        if tuple(config.input_combination) != tuple(first.input_combination):
            raise DartsInputError(
                f"the ensemble's models disagree on bands: {files[0]} uses "
                f"{list(first.input_combination)}, {path} uses {list(config.input_combination)}"
            )
        if dict(config.norm_factors) != dict(first.norm_factors):
            raise DartsInputError(
                f"the ensemble's models disagree on norm factors: {files[0]} has {first.norm_factors}, "
                f"{path} has {config.norm_factors}"
            )


def _check_files(files: tuple[Path, ...]) -> None:
    from darts_preprocess.errors import DartsFileNotFoundError

    for path in files:
        if not Path(path).is_file():
            raise DartsFileNotFoundError(f"model file {path} does not exist")


def load_models(choice: ModelChoice) -> Any:
    """Load the models once: a darts_models Predictor when available, else the torch model(s)."""
    _check_files(choice.files)
    import darts_models

    loader = getattr(darts_models, "load_predictor", None)
    if loader is not None:
        return loader(
            list(choice.files),
            runtime=choice.runtime,
            device=choice.device,
            precision=choice.precision,
            tta=choice.tta,
        )
    if choice.runtime != "torch" or choice.tta != "none":
        raise DartsInputError(
            f"runtime {choice.runtime!r} / tta {choice.tta!r} need darts_models.load_predictor, "
            "which this darts_models lacks; use runtime torch and tta none"
        )
    device = _device(choice.device)
    loaded = [darts_models.load_deployable_checkpoint(path, device) for path in choice.files]
    _check_ensemble(choice.files, [m.config for m in loaded])
    return loaded


def _device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda:0" if torch.cuda.is_available() else "cpu"
    return f"cuda:{device}" if device.isdigit() else device


def check_models_for_sensor(models: Any, sensor: str) -> ModelNeeds:
    """The models' needs; a band the sensor cannot provide is an error naming it."""
    needs = model_needs(models)
    check_sensor_bands(sensor, needs.bands, source=f"the model {needs.names[0]!r}")
    return needs


@functools.lru_cache(maxsize=2)
def worker_models(choice: ModelChoice) -> Any:
    """The models of ``choice``, loaded once per process (a dask worker) and then reused."""
    logger.info("loading %d model file(s) in this worker", len(choice.files))
    return load_models(choice)


def predict_probabilities(
    models: Any, scene: xr.Dataset, patch_size: int, overlap: int, batch_size: int, choice: ModelChoice
) -> xr.DataArray:
    """Probabilities (float32, NaN where a band is NaN) of a model-input scene."""
    from darts_models import segment_scene

    if not isinstance(models, list):
        return segment_scene(models, scene, patch_size=patch_size, overlap=overlap, batch_size=batch_size)
    device = _device(choice.device)
    maps = [
        segment_scene(
            m,
            scene,
            patch_size,
            overlap,
            batch_size,
            device=device,
            precision=choice.precision,  # type: ignore[arg-type]
        )
        for m in models
    ]
    if len(maps) == 1:
        return maps[0]
    return sum(maps[1:], maps[0]) / len(maps)
