"""The small interface a remote raster source implements, and the cache-filling step."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

import numpy as np
from odc.geo.geobox import GeoBox
from odc.geo.geom import Geometry

from darts_preprocess.sources._tiles import describe_extent, tile_name, write_tile
from darts_preprocess.sources.errors import AuxDataMissingError, RemoteSourceError

logger = logging.getLogger(__name__)


class RemoteRaster(Protocol):
    """A remote source that can fetch a raster for a grid (imports and initialises itself lazily)."""

    @property
    def name(self) -> str:
        """Short name used in tile file names and messages."""
        ...

    def fetch(self, geobox: GeoBox) -> tuple[np.ndarray, GeoBox, list[str]]:
        """Return ``(data [c, h, w], grid of data, band descriptions)`` covering ``geobox``."""
        ...


def fill_cache(
    cache_dir: Path, geobox: GeoBox, missing: Geometry, remote: RemoteRaster | None, what: str
) -> Path:
    """Fetch the grid from ``remote`` into ``cache_dir``; a clear error if that is impossible."""
    where = describe_extent(missing)
    if remote is None:
        raise AuxDataMissingError(
            f"the {what} cache {cache_dir} does not cover {where}, and no remote source is enabled; "
            f"put GeoTIFF tiles covering it into {cache_dir} or enable the remote download"
        )
    logger.info("%s cache %s lacks %s; fetching from %s", what, cache_dir, where, remote.name)
    try:
        data, grid, descriptions = remote.fetch(geobox)
    except RemoteSourceError as err:
        raise AuxDataMissingError(
            f"the {what} cache {cache_dir} does not cover {where}, and the remote source "
            f"{remote.name} failed: {err}"
        ) from err
    return write_tile(cache_dir, tile_name(grid, f"remote-{remote.name}"), data, grid, descriptions)
