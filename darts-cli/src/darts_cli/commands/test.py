"""`darts test-smp`: evaluate a checkpoint on the val-test and test splits."""

from __future__ import annotations

import logging

from rich.console import Console
from rich.table import Table

from darts_cli.options import darts_command
from darts_train.config import TestConfig  # cheap: pydantic only, no torch at import time

logger = logging.getLogger(__name__)

_SHOWN = ("JaccardIndex", "F1Score", "Precision", "Recall", "AUROC", "ObjectF1", "BoundaryIoU")


@darts_command(TestConfig)
def test_smp(config: TestConfig) -> int:
    """Evaluate a checkpoint on the val-test and test splits."""
    from darts_train import test_smp as run

    result = run(config)
    table = Table(title=f"{result.checkpoint.name} -> {result.output_dir}")
    table.add_column("split")
    for key in _SHOWN:
        table.add_column(key, justify="right")
    for split, values in result.metrics.items():
        table.add_row(split, *("-" if values.get(k) is None else f"{values[k]:.4f}" for k in _SHOWN))
    Console().print(table)
    return 0
