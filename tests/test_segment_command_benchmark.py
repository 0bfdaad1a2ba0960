"""benchmarks/segment_command.py at the smallest size: the script runs and reports every figure."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_segment_command_benchmark_reports_ratio_breakdown_and_memory(tmp_path: Path) -> None:
    args = ["--size", "64", "--n-scenes", "1", "--repeats", "1", "--patch-size", "32", "--overlap", "4"]
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "segment_command.py"), *args, "--threads", "1"],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        cwd=tmp_path,
        timeout=280,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    ratio = re.search(r"throughput command / bare forward: ([0-9.]+)x wall .*, ([0-9.]+)x CPU", out)
    assert ratio is not None and float(ratio.group(1)) > 0 and float(ratio.group(2)) > 0, out
    steps = ("read scene", "read DEM + TCVIS", "engineer bands", "infer", "write all outputs", "polygons")
    for step in steps:
        assert re.search(rf"{re.escape(step)}.* [0-9]+\.[0-9]{{3}} +[0-9]+\.[0-9]{{3}} +[0-9.]+x\n", out), (
            step,
            out,
        )
    for key in ("load_s", "predict_s", "write_s"):
        assert key in out
    memory = re.search(r"RSS high-water ([0-9.]+)x .*tracemalloc ([0-9.]+)x", out)
    assert memory is not None and float(memory.group(2)) > 0, out
    assert "9 tiles of 32 px per scene" in out  # (64 + 2 * 4) px padded, step 28: 3 x 3 tiles
