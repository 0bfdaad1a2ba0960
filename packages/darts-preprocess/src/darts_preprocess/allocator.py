"""Memory settings for a process that preprocesses scenes: glibc's allocator and numpy's huge pages.

A scene job allocates and frees about a gigabyte of large arrays. With the defaults every array
above 32 MiB is a fresh ``mmap``: its pages are faulted in and zeroed on first touch and unmapped on
free, and numpy asks for transparent huge pages on them, which on a machine whose free memory is
fragmented (page cache of the files just written) makes the kernel compact memory inside the page
fault. Measured on this 2-core VM, first touch of a fresh 210 MB array: 0.01-0.04 s or 0.45-0.55 s
with huge pages (bimodal, by the state of the kernel's free lists), 0.08-0.10 s without; 0.009 s
for reused heap memory. So these settings keep large arrays on the heap and reuse it:

- ``MALLOC_MMAP_MAX_=0``: no ``mmap`` for single allocations; freed arrays go back to the heap
  and serve the next scene's arrays without page faults;
- ``MALLOC_TRIM_THRESHOLD_`` 1 GiB and ``MALLOC_TOP_PAD_`` 64 MiB: freed memory is kept (up to
  1 GiB above the heap top) instead of being returned and faulted in again;
- ``MALLOC_ARENA_MAX=2``: the scene threads share two arenas, so they reuse each other's memory;
- numpy's ``madvise(MADV_HUGEPAGE)`` off: heap growth never waits for compaction.

Measured on ``benchmarks/preprocess.py`` scenes (4 x 2048 px, 2 scenes at once, 2 cores), three
fresh processes of four runs each, against the previous settings (mmap threshold 32 MiB, trim
1 GiB, two arenas, numpy huge pages on): 3.56-3.72 s per run instead of 3.99-4.26 s, CPU time
6.2-6.5 s instead of 7.0-7.5 s, peak RSS 2.0-2.4 GB in both. Results do not change.

The price is memory the process keeps: freed arrays stay mapped for reuse. One process running
the pipeline 20 times, alternating those scenes with 3 x 3000 px ones: RSS settled at 3.6-3.7 GB
after eight runs (peak 4.3 GB) where the previous settings kept 1.9 GB (peak 2.9 GB); the
3000 px runs took 6.0-6.6 s instead of 8.2-9.0 s. A trim threshold of 256 MiB kept 2.3 GB but
gave back half the gain (7.2-7.8 s). Where memory is tighter than time, set the environment
variable ``DARTS_KEEP_ALLOCATOR=1``: :func:`tune_allocator_for_scenes` then changes nothing.

They only act from the start of a process (the arena limit binds before threads allocate), so the
``darts preprocess-*`` commands call :func:`tune_allocator_for_scenes` first thing, before scenes
run in-process; a notebook or script may call it at its top (numpy's huge-page setting is then off
for that whole process). Dask worker processes are left as they are: there, with one scene per
process and dask's own threads, the earlier settings (as environment variables) made two workers
slower (8.6 and 9.3 s instead of 7.7-8.1 s for four scenes, in two runs).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib
import logging
import os
import sys

logger = logging.getLogger(__name__)

KEEP_ALLOCATOR_ENV = "DARTS_KEEP_ALLOCATOR"
"""Set to 1 to leave glibc's and numpy's memory settings alone (less memory kept, slower scenes)."""
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8
SCENE_SETTINGS: dict[str, int] = {
    "MALLOC_MMAP_MAX_": 0,
    "MALLOC_TRIM_THRESHOLD_": 1024 * 1024 * 1024,
    "MALLOC_TOP_PAD_": 64 * 1024 * 1024,
    "MALLOC_ARENA_MAX": 2,
}
"""glibc tunables (by their environment-variable names, ``MALLOC_ARENA_MAX=2 python ...`` sets the
same from outside) and their values."""
_MALLOPT_KEYS = {
    "MALLOC_MMAP_MAX_": _M_MMAP_MAX,
    "MALLOC_TRIM_THRESHOLD_": _M_TRIM_THRESHOLD,
    "MALLOC_TOP_PAD_": _M_TOP_PAD,
    "MALLOC_ARENA_MAX": _M_ARENA_MAX,
}


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version.restype = ctypes.c_char_p  # glibc only: mallopt keys are glibc's
        libc.gnu_get_libc_version()
    except (OSError, AttributeError):
        return None
    return libc


def _numpy_huge_pages_off() -> None:
    try:
        multiarray = importlib.import_module("numpy._core.multiarray")
    except ImportError:  # numpy < 2
        multiarray = importlib.import_module("numpy.core.multiarray")
    multiarray._set_madvise_hugepage(False)


def tune_allocator_for_scenes() -> bool:
    """Apply :data:`SCENE_SETTINGS` with ``mallopt`` and turn numpy's huge-page advice off.

    Returns False where the C library is not glibc (numpy's setting is changed there too), and
    changes nothing (returns False) when the environment sets ``DARTS_KEEP_ALLOCATOR=1``.
    """
    if os.environ.get(KEEP_ALLOCATOR_ENV, "").strip() not in ("", "0"):
        logger.info("%s is set: allocator and huge-page settings left as they are", KEEP_ALLOCATOR_ENV)
        return False
    _numpy_huge_pages_off()
    libc = _glibc()
    if libc is None:
        logger.debug("not glibc: allocator settings left as they are")
        return False
    refused = [
        name
        for name, value in SCENE_SETTINGS.items()
        if libc.mallopt(ctypes.c_int(_MALLOPT_KEYS[name]), ctypes.c_int(value)) != 1
    ]
    if refused:
        logger.debug("mallopt refused %s", refused)
    return not refused
