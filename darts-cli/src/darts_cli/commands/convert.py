"""`darts convert-lightning-checkpoint`: a Lightning checkpoint to the deployable model file."""

from __future__ import annotations

import logging

from rich.console import Console

from darts_cli.options import darts_command
from darts_train.config import ConvertConfig  # cheap: pydantic only, no torch at import time

logger = logging.getLogger(__name__)


@darts_command(ConvertConfig)
def convert_lightning_checkpoint(config: ConvertConfig) -> int:
    """Convert a Lightning checkpoint into a deployable model file."""
    from darts_train import convert_lightning_checkpoint as run

    path = run(config)
    Console().print(f"deployable model written to {path}")
    return 0
