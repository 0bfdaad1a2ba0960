"""How many helper threads one scene may use for GDAL warps and FFTs (results do not depend on it).

A scene job runs in one thread; its warps and FFTs may use a few more. When several scenes run at
once, each gets ``CPUs // scenes in flight`` helpers (see :func:`helper_threads_for`), so the
machine is not oversubscribed. The limit is per thread: :func:`limit_helper_threads` sets it for
the calling thread only.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

DEFAULT_HELPER_THREADS = max(1, min(4, os.cpu_count() or 1))
"""Helpers of a scene that runs alone: up to 4, at most the CPU count."""

_local = threading.local()


def helper_threads() -> int:
    """The helper-thread limit of the calling thread."""
    return getattr(_local, "limit", DEFAULT_HELPER_THREADS)


def helper_threads_for(scenes_at_once: int) -> int:
    """Helpers per scene when ``scenes_at_once`` scenes share this machine's CPUs (at least 1, at most 4)."""
    return max(1, min(DEFAULT_HELPER_THREADS, (os.cpu_count() or 1) // max(1, scenes_at_once)))


@contextmanager
def limit_helper_threads(limit: int | None) -> Iterator[None]:
    """Use ``limit`` helper threads in this thread for the duration (None keeps the default)."""
    previous = getattr(_local, "limit", None)
    if limit is not None:
        _local.limit = max(1, int(limit))
    try:
        yield
    finally:
        if previous is None:
            _local.__dict__.pop("limit", None)
        else:
            _local.limit = previous
