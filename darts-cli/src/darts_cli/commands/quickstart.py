"""`darts quickstart`: Run the whole flow on generated data in a few minutes (CPU, local storage)."""

from __future__ import annotations

from darts_cli.errors import NotImplementedYetError
from darts_cli.options import darts_command


@darts_command()
def quickstart() -> int:
    """Run the whole flow on generated data in a few minutes (CPU, local storage)."""
    raise NotImplementedYetError("quickstart")
