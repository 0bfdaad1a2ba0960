"""`darts convert-lightning-checkpoint`: Convert a Lightning checkpoint into a deployable model file."""

from __future__ import annotations

from darts_cli.errors import NotImplementedYetError
from darts_cli.options import darts_command


@darts_command()
def convert_lightning_checkpoint() -> int:
    """Convert a Lightning checkpoint into a deployable model file."""
    raise NotImplementedYetError("convert-lightning-checkpoint")
