"""The JSON sidecar of an exported model (``<model file>.json``): everything needed to feed it.

It is plain JSON so that onnxruntime or ``torch.jit.load`` users need no darts import: bands in
input order, their encodings and norm factors (``x = clip((value + offset) * scale * norm_factor,
0, 1)``, no-data set to 0), patch size, the graph's input/output names and shapes, the model spec,
the hash of the model file it was exported from, and the darts version.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from darts_core.errors import CheckpointError
from darts_models.errors import CheckpointNotFoundError

ExportFormat = Literal["onnx", "torchscript"]

SIDECAR_SUFFIX = ".json"
NORMALISATION = (
    "x[band] = clip((value + offset) * scale * norm_factor, 0, 1) for each band in `bands` order; "
    "no-data pixels set to 0; input float32 [batch, len(bands), height, width]"
)


class TensorSpec(BaseModel):
    """Name, shape (ints, or names of dynamic axes) and dtype of a graph input or output."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    shape: list[int | str]
    dtype: str = "float32"


class ExportSidecar(BaseModel):
    """The content of ``<exported file>.json``."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    format: ExportFormat
    """``onnx`` or ``torchscript``."""
    name: str
    """The model's name."""
    bands: list[str] = Field(min_length=1)
    """Input bands in channel order."""
    encodings: dict[str, dict[str, float | str]]
    """Per band: ``encoding`` (formula), ``offset``, ``scale``."""
    norm_factors: dict[str, float]
    """Per band: the factor applied after encoding."""
    normalisation: str = NORMALISATION
    """How raw band values become the network input."""
    patch_size: int | None
    """The training patch size (the default patch size for scene inference)."""
    spatial_multiple: int
    """Height and width of the input must be multiples of this (the encoder's output stride)."""
    dynamic_axes: list[str]
    """Input axes whose size may change: ``batch``, and ``height``/``width`` where the format allows."""
    input: TensorSpec
    """The graph input."""
    output: TensorSpec
    """The graph output: RTS probabilities in [0, 1] (sigmoid applied)."""
    model: dict[str, Any]
    """Architecture, encoder, in_channels, classes."""
    source_model: dict[str, str | None]
    """``path`` and ``sha256`` of the model file exported."""
    darts_version: str
    """Version of darts-models that exported the file."""
    opset: int | None = None
    """ONNX opset (onnx only)."""
    config: dict[str, Any]
    """The full deployable model config (plain values), for darts to rebuild its predictor."""


def sidecar_path(model_path: str | os.PathLike[str]) -> Path:
    """``<model file>.json``, e.g. ``rts.onnx`` -> ``rts.onnx.json``."""
    path = Path(model_path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def read_sidecar(model_path: str | os.PathLike[str]) -> ExportSidecar:
    """Read and validate the sidecar of an exported model file; errors name the file and key."""
    path = sidecar_path(model_path)
    if not path.is_file():
        raise CheckpointNotFoundError(
            f"{path} does not exist; an exported model {Path(model_path).name} needs its JSON sidecar "
            "(written by `darts export-model` next to it)"
        )
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path}: cannot read as JSON: {err}") from err
    try:
        return ExportSidecar.model_validate(data)
    except ValidationError as err:
        raise CheckpointError(f"{path}: not a darts export sidecar: {err}") from err
