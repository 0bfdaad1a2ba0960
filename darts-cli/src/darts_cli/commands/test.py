"""`darts test-smp`: Evaluate a checkpoint on the val-test and test splits."""

from __future__ import annotations

from darts_cli.errors import NotImplementedYetError
from darts_cli.options import darts_command


@darts_command()
def test_smp() -> int:
    """Evaluate a checkpoint on the val-test and test splits."""
    raise NotImplementedYetError("test-smp")
