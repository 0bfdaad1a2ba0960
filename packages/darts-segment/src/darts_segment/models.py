"""The models of a run: loading them once, what they need from a scene, and their records.

:class:`ModelChoice` names the files and how to run them (runtime, device, precision, TTA); it is
small and hashable, so it travels to dask workers, each of which loads the models once
(:func:`worker_models`) and keeps them for every scene it segments.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from darts_core.errors import DartsFileNotFoundError
from darts_preprocess.engineering.model_input import check_sensor_bands

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
    name: str


def load_models(choice: ModelChoice) -> Any:
    """One :class:`darts_models.Predictor` for the files (an ensemble for several, TTA if asked).

    Raises for a missing or unreadable file, and when the models of an ensemble disagree on bands.
    """
    for path in choice.files:
        if not Path(path).is_file():
            raise DartsFileNotFoundError(f"model file {path} does not exist")
    from darts_models import load_predictor

    return load_predictor(
        list(choice.files),
        runtime=choice.runtime,  # type: ignore[arg-type]
        device=choice.device,
        precision=choice.precision,  # type: ignore[arg-type]
        tta=choice.tta,  # type: ignore[arg-type]
    )


def model_file_bands(path: Path, runtime: str) -> tuple[str, ...]:
    """The bands a model file needs, read from the file (ONNX: its JSON sidecar) without building it."""
    if runtime == "onnx":
        from darts_models.sidecar import read_sidecar

        return tuple(read_sidecar(path).bands)
    from darts_models.loading import read_model_file

    return tuple(read_model_file(path)[0].input_combination)


def check_files_for_sensor(choice: ModelChoice, sensor: str) -> None:
    """Before loading or reading anything else: every file exists and needs only bands the sensor
    provides (else an error naming the file and the band)."""
    for path in choice.files:
        if not Path(path).is_file():
            raise DartsFileNotFoundError(f"model file {path} does not exist")
        check_sensor_bands(sensor, model_file_bands(path, choice.runtime), source=f"model file {path}")


def model_needs(predictor: Any) -> ModelNeeds:
    """The loaded models' bands (in order), default patch size and name."""
    config = predictor.config
    return ModelNeeds(tuple(config.input_combination), config.patch_size, config.name)


def model_records(predictor: Any) -> list[dict[str, Any]]:
    """One entry per model file for run.json: path, name, SHA-256, runtime, kind."""
    return [
        {"path": s.path, "name": s.name, "sha256": s.sha256, "runtime": s.runtime, "kind": s.kind}
        for s in predictor.sources
    ]


@functools.lru_cache(maxsize=2)
def worker_models(choice: ModelChoice) -> Any:
    """The predictor of ``choice``, loaded once per process (a dask worker) and then reused."""
    logger.info("loading %d model file(s) in this worker", len(choice.files))
    return load_models(choice)
