"""Allocator tuning: every setting is accepted by glibc (this CI's C library), numpy's huge pages off."""

from __future__ import annotations

import os
import subprocess
import sys


def test_tuning_is_accepted_by_glibc() -> None:
    # in a fresh interpreter, as the CLI does it: every mallopt call must be accepted, and numpy no
    # longer advises huge pages (the setter returns the previous value)
    code = (
        "from darts_preprocess.jobs.allocator import tune_allocator_for_scenes as t\n"
        "from numpy._core.multiarray import _set_madvise_hugepage as h\n"
        "before = h(True); h(before); print(before, t(), h(True))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "False"]


def test_large_arrays_reuse_heap_memory_after_tuning() -> None:
    # with mmap off a freed large array is reused: allocating it again faults in no new pages
    code = (
        "import resource, numpy as np\n"
        "from darts_preprocess.jobs.allocator import tune_allocator_for_scenes as t\n"
        "t()\n"
        "a = np.ones(64 * 2**20 // 8); del a\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "b = np.ones(64 * 2**20 // 8)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # a fresh 64 MiB array faults in 16384 pages of 4 KiB, or (huge pages) at least 32 of 2 MiB;
    # untuned, this count is 16385 or ~540 here, tuned 0
    assert int(out.stdout) < 32


def test_keep_allocator_leaves_everything_alone() -> None:
    code = (
        "from darts_preprocess.jobs.allocator import tune_allocator_for_scenes as t\n"
        "from numpy._core.multiarray import _set_madvise_hugepage as h\n"
        "print(t(), h(True))"
    )
    env = {**os.environ, "DARTS_KEEP_ALLOCATOR": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.split() == ["False", "True"]  # not tuned, numpy's huge pages still on
