"""`darts test-smp`: evaluate a checkpoint on the val-test and test splits."""

from __future__ import annotations

import logging

from darts_cli.options import darts_command
from darts_train.config import TestConfig  # cheap: pydantic only, no torch at import time

logger = logging.getLogger(__name__)

_SHOWN = ("JaccardIndex", "F1Score", "Precision", "Recall", "AUROC", "ObjectF1", "BoundaryIoU")


@darts_command(TestConfig)
def test_smp(config: TestConfig) -> int:
    """Evaluate a checkpoint on the val-test and test splits."""
    from darts_train import test_smp as run

    result = run(config)
    print(f"{result.checkpoint.name} -> {result.output_dir}")
    print(metrics_table(result.metrics))
    return 0


def metrics_table(metrics: dict[str, dict[str, float | None]], keys: tuple[str, ...] = _SHOWN) -> str:
    """A plain text table, one metric per row and one split per column: never cut at any terminal width."""
    splits = list(metrics)
    rows = [["metric", *splits]]
    for key in keys:
        rows.append(
            [key, *("-" if metrics[s].get(key) is None else f"{metrics[s][key]:.4f}" for s in splits)]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [
            row[0].ljust(widths[0]),
            *(cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)),
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
