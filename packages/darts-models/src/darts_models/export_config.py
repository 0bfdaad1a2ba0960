"""``ExportConfig``: the options of ``darts export-model`` (pydantic only; cheap to import)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ExportConfig(BaseModel):
    """Export a model to ONNX or TorchScript plus a JSON sidecar (``export-model``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    model_file: Path
    """The deployable model file (or a Lightning checkpoint written by train-smp)."""
    format: Literal["onnx", "torchscript"] = "onnx"
    """onnx (run by onnxruntime) or torchscript (run by torch.jit.load)."""
    output: Path | None = None
    """The exported file; default: the model file's name with .onnx / .pt. The sidecar: this name + .json."""
    patch_size: int | None = Field(default=None, ge=1)
    """Example patch size for the export check; default: the model's training patch size, else 256."""
    overwrite: bool = False
    """Replace an existing exported file."""
