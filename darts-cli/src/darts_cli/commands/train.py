"""`darts train-smp`: one training run on a fold of cross-val (or on all of it: the final retrain)."""

from __future__ import annotations

from darts_cli.errors import NotImplementedYetError
from darts_cli.options import darts_command


@darts_command()
def train_smp() -> int:
    """Train one segmentation model on a fold of cross-val (or on all of it: the final retrain)."""
    raise NotImplementedYetError("train-smp")
