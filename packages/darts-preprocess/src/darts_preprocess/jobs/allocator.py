"""Memory settings for a process that preprocesses scenes: glibc's allocator and numpy's huge pages.

A scene job allocates and frees about a gigabyte of large arrays. With the defaults every array
above 32 MiB is a fresh ``mmap``, faulted in and zeroed on first touch and unmapped on free, and
numpy asks for transparent huge pages on it, which can make the kernel compact memory inside the
page fault. These settings keep large arrays on the heap and reuse them:

- ``MALLOC_MMAP_MAX_=0``: no ``mmap`` for single allocations; freed arrays go back to the heap
  and serve the next scene's arrays without page faults;
- ``MALLOC_TRIM_THRESHOLD_`` 1 GiB and ``MALLOC_TOP_PAD_`` 64 MiB: freed memory is kept (up to
  1 GiB above the heap top) instead of being returned and faulted in again;
- ``MALLOC_ARENA_MAX=2``: the scene threads share two arenas, so they reuse each other's memory;
- numpy's ``madvise(MADV_HUGEPAGE)`` off: heap growth never waits for compaction.

The price is memory the process keeps for reuse (measurements: docs/benchmarks.md). Where memory
is tighter than time, set ``DARTS_KEEP_ALLOCATOR=1``: :func:`tune_allocator_for_scenes` then
changes nothing.

The settings only act from the start of a process (the arena limit binds before threads allocate),
so the ``darts preprocess-*`` commands call :func:`tune_allocator_for_scenes` first thing, before
scenes run in-process; a notebook or script may call it at its top (numpy's huge-page setting is
then off for that whole process). Dask worker processes are left as they are (one scene per
process there; the settings made them slower).
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
