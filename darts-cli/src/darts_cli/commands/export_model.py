"""`darts export-model`: a model file to ONNX or TorchScript plus a JSON sidecar."""

from __future__ import annotations

import logging

from rich.console import Console

from darts_cli.options import darts_command
from darts_models.export_config import ExportConfig  # cheap: pydantic only, no torch at import time

logger = logging.getLogger(__name__)


@darts_command(ExportConfig)
def export_model(config: ExportConfig) -> int:
    """Export a model to ONNX or TorchScript (runs with no darts import) plus a JSON sidecar."""
    from darts_models.export import export_model as run

    result = run(
        config.model_file, config.output, config.format, config.patch_size, overwrite=config.overwrite
    )
    Console().print(
        f"{config.format} model written to {result.path} (sidecar {result.sidecar_path.name}; "
        f"max |difference| to torch {result.max_abs_diff:.1e})"
    )
    return 0
