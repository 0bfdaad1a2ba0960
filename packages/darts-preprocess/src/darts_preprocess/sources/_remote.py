"""The small interface a remote raster source implements, and the cache-filling step.

Failures: a fetch that fails is retried with exponential backoff (:class:`RetryPolicy`), silently
(debug log only); the scene then fails with one message, which the pipeline logs as one line. A
connection failure (DNS, refused, unreachable network) or a service that cannot be used at all
(:class:`ServiceUnusableError`: no credentials, client missing) is not retried: it marks the service
unreachable in this process (:data:`UNREACHABLE`) for the rest of the run, so later scenes fail
at once with that reason instead of waiting through their own retries.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from odc.geo.geobox import GeoBox
from odc.geo.geom import Geometry

from darts_preprocess.sources._tiles import describe_extent, tile_name, write_tile
from darts_preprocess.sources.errors import (
    AuxDataMissingError,
    RemoteNoDataError,
    RemoteSourceError,
    ServiceUnusableError,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How often a failed fetch is tried again, and how long to wait in between."""

    attempts: int = 3
    """Tries in all (1 = no retry)."""
    first_delay_s: float = 2.0
    """Wait before the second try; each further wait is ``factor`` times longer."""
    factor: float = 2.0


class RemoteRaster(Protocol):
    """A remote source that can fetch a raster for a grid (imports and initialises itself lazily)."""

    @property
    def name(self) -> str:
        """Short name used in tile file names and messages."""
        ...

    @property
    def retry(self) -> RetryPolicy:
        """How a failed fetch is retried."""
        ...

    def fetch(self, geobox: GeoBox) -> tuple[np.ndarray, GeoBox, list[str]]:
        """Return ``(data [c, h, w], grid of data, band descriptions)`` covering ``geobox``."""
        ...


class UnreachableServices:
    """Services found unreachable in this process (thread-safe); cleared at the start of each run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reasons: dict[str, str] = {}

    def reason(self, service: str) -> str | None:
        """Why ``service`` was marked unreachable, or None."""
        with self._lock:
            return self._reasons.get(service)

    def mark(self, service: str, reason: str) -> None:
        """Remember the first reason ``service`` was unreachable."""
        with self._lock:
            self._reasons.setdefault(service, reason)

    def clear(self) -> None:
        """Forget every mark (a new run tries every service again)."""
        with self._lock:
            self._reasons.clear()


UNREACHABLE = UnreachableServices()
"""Per-process registry, like the per-process Earth Engine initialisation: each worker learns once."""

_CONNECTION_NAMES = {"ConnectionError", "NewConnectionError", "NameResolutionError", "ConnectTimeout"}
_CONNECTION_TEXT = (
    "Could not resolve host",
    "Couldn't resolve host",
    "Failed to connect",
    "Connection refused",
)
"""How GDAL's curl reports a connection failure (a rasterio error carries only the text)."""


def is_connection_failure(err: BaseException) -> bool:
    """Whether ``err`` (or an exception it was raised from) is a DNS / connection failure."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionError | socket.gaierror | socket.herror):
            return True
        if any(cls.__name__ in _CONNECTION_NAMES for cls in type(current).__mro__):
            return True
        if any(text in str(current) for text in _CONNECTION_TEXT):
            return True
        current = current.__cause__ or current.__context__
    return False


_ERRNO = re.compile(r"\[Errno -?\d+\] [^'\")\]]+")


def connection_summary(err: BaseException) -> str:
    """A short reason for a connection failure (``[Errno 111] Connection refused``), else the message."""
    text = str(err)
    found = _ERRNO.findall(text)
    return found[-1].strip() if found else text[:300]


def fetch_with_retries(
    remote: RemoteRaster, geobox: GeoBox, sleep: Callable[[float], None] = time.sleep
) -> tuple[np.ndarray, GeoBox, list[str]]:
    """``remote.fetch(geobox)`` retried as ``remote.retry`` says; raises one :class:`RemoteSourceError`."""
    policy = getattr(remote, "retry", RetryPolicy())
    known = UNREACHABLE.reason(remote.name)
    if known is not None:
        raise RemoteSourceError(
            f"{remote.name} is unreachable ({known}; found earlier in this run, not retried)"
        )
    delay = policy.first_delay_s
    for attempt in range(1, policy.attempts + 1):
        try:
            return remote.fetch(geobox)
        except RemoteNoDataError:
            raise
        except ServiceUnusableError as err:
            UNREACHABLE.mark(remote.name, str(err))
            raise
        except RemoteSourceError as err:
            if is_connection_failure(err):
                where = getattr(remote, "url", None)
                reason = connection_summary(err) + (f" at {where}" if where else "")
                UNREACHABLE.mark(remote.name, reason)
                logger.debug("%s marked unreachable for this run: %s", remote.name, err)
                raise RemoteSourceError(f"{remote.name} is unreachable ({reason})") from err
            if attempt == policy.attempts:
                raise RemoteSourceError(f"{err} (gave up after {attempt} attempts)") from err
            logger.debug("%s attempt %d failed (%s); retrying in %.1f s", remote.name, attempt, err, delay)
            sleep(delay)
            delay *= policy.factor
    raise AssertionError("unreachable")  # pragma: no cover


def fill_cache(
    cache_dir: Path,
    geobox: GeoBox,
    missing: Geometry,
    remote: RemoteRaster | None,
    what: str,
    note: str = "",
) -> Path:
    """Fetch the grid from ``remote`` into ``cache_dir``; a clear error if that is impossible.

    ``remote=None`` (offline) fails at once, naming the folder and the missing extent; ``note``
    says what else was tried (e.g. a datacube in the folder).
    """
    where = describe_extent(missing)
    if remote is None:
        raise AuxDataMissingError(
            f"{note}the {what} cache {cache_dir} does not cover {where}, and darts runs offline (no remote "
            f"source); put data covering it into {cache_dir} or run without --offline / DARTS_OFFLINE"
        )
    logger.debug("%s cache %s lacks %s; fetching from %s", what, cache_dir, where, remote.name)
    try:
        data, grid, descriptions = fetch_with_retries(remote, geobox)
    except RemoteSourceError as err:
        raise AuxDataMissingError(
            f"{note}the {what} cache {cache_dir} does not cover {where}, and the remote source "
            f"{remote.name} failed: {err}"
        ) from err
    return write_tile(cache_dir, tile_name(grid, f"remote-{remote.name}"), data, grid, descriptions)
