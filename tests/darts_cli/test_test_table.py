"""test-smp's metrics table: full names at any terminal width (no "Jaccar…" headers)."""

from __future__ import annotations

from darts_cli.commands.test import metrics_table


def test_every_metric_and_split_name_is_shown_in_full() -> None:
    metrics = {
        "val-test": {"JaccardIndex": 0.51234, "BoundaryIoU": None, "F1Score": 0.7},
        "test": {"JaccardIndex": 0.4, "BoundaryIoU": 0.25, "F1Score": 0.6},
    }
    text = metrics_table(metrics, ("JaccardIndex", "F1Score", "BoundaryIoU"))
    lines = text.splitlines()
    assert lines[0].split() == ["metric", "val-test", "test"]
    assert lines[2].split() == ["JaccardIndex", "0.5123", "0.4000"]
    assert lines[4].split() == ["BoundaryIoU", "-", "0.2500"]
    assert max(map(len, lines)) < 40  # one column per split: narrow enough for any terminal
    assert "…" not in text
