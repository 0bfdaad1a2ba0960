"""`darts sweep-report`: Summarise a sweep: best trials, parameter importances and plots."""

from __future__ import annotations

from darts_cli.errors import NotImplementedYetError
from darts_cli.options import darts_command


@darts_command()
def sweep_report() -> int:
    """Summarise a sweep: best trials, parameter importances and plots."""
    raise NotImplementedYetError("sweep-report")
