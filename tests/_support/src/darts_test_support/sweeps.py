"""Sweep files (wandb format) for the sweep tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def sweep_dict(
    parameters: dict[str, Any],
    *,
    method: str = "random",
    metric: str = "val0/JaccardIndex",
    goal: str | None = "maximize",
    **top: Any,
) -> dict[str, Any]:
    """A sweep file's content: method, metric (``goal`` None leaves it out) and parameters."""
    metric_block: dict[str, Any] = {"name": metric} | ({"goal": goal} if goal is not None else {})
    return {**top, "method": method, "metric": metric_block, "parameters": parameters}


def write_sweep_file(path: Path, parameters: dict[str, Any], **options: Any) -> Path:
    """Write :func:`sweep_dict` as YAML to ``path``; return ``path``."""
    path.write_text(yaml.safe_dump(sweep_dict(parameters, **options), sort_keys=False), encoding="utf-8")
    return path
