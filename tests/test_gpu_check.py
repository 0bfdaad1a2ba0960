"""benchmarks/gpu_check.sh on a machine without a GPU: every GPU step skipped by name, exit 0."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a GPU machine the script runs for minutes")
def test_gpu_check_skips_every_gpu_step_cleanly_on_a_cpu_machine(tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", str(REPO / "benchmarks" / "gpu_check.sh")],
        capture_output=True,
        text=True,
        env={**os.environ, "GPU_CHECK_OUT": str(tmp_path)},
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.split("== summary")[1].splitlines()[1:]
    steps = {line.split()[0]: line for line in summary if line.strip()}
    for name in ("cuda-tests", "train-step", "train-gpu", "test-gpu", "sweep-gpu"):
        assert "skipped: no CUDA device" in steps[name], steps
    assert "skipped" in steps["segment-scene"]
    assert "FAILED" not in result.stdout
