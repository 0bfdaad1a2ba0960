"""Allocator tuning: every setting is accepted by glibc (this CI's C library)."""

from __future__ import annotations

import subprocess
import sys


def test_tuning_is_accepted_by_glibc() -> None:
    # in a fresh interpreter, as the CLI does it: every mallopt call must be accepted
    code = "from darts_preprocess.allocator import tune_allocator_for_scenes as t; print(t())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
