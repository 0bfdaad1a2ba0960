"""`darts validate-train-data`: Check that a training set on disk follows the layout contract."""

from __future__ import annotations

from darts_cli.errors import NotImplementedYetError
from darts_cli.options import darts_command


@darts_command()
def validate_train_data() -> int:
    """Check that a training set on disk follows the layout contract."""
    raise NotImplementedYetError("validate-train-data")
