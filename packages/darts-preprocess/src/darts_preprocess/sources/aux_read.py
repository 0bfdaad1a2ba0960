"""Read an auxiliary layer (ArcticDEM, TCVIS) from whichever local source covers the grid.

Order: a darts-nextgen datacube in the folder (:mod:`.datacube_layout`), then our GeoTIFF tiles
(:mod:`._tiles`), then the remote source, whose answer is cached as one more GeoTIFF tile. The
returned description names the source that served the grid, for the log.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from odc.geo.geobox import GeoBox

from darts_preprocess.sources._cube import Datacube
from darts_preprocess.sources._remote import RemoteRaster, fill_cache
from darts_preprocess.sources._tiles import describe_extent, missing_extent, read_mosaic

logger = logging.getLogger(__name__)


def tile_folder(folder: Path) -> Path:
    """The folder of GeoTIFF tiles: ``folder``, or its parent when ``folder`` is a cube itself."""
    return folder.parent if folder.suffix in (".zarr", ".icechunk") else folder


def read_aux(
    folder: Path,
    grid: GeoBox,
    n_bands: int,
    what: str,
    cube: Datacube | None,
    remote: RemoteRaster | None,
) -> tuple[np.ndarray, str]:
    """``(float32 [n_bands, h, w] on grid, NaN = no data; description of the source)``, cubic resampling.

    Raises :class:`AuxDataMissingError` naming the folder and the extent when no local source
    covers ``grid`` and the remote is disabled (offline) or fails.
    """
    note = ""
    if cube is not None:
        lacking = cube.missing(grid)
        if lacking is None:
            return cube.read(grid, "cubic"), cube.description
        note = f"the {cube.description} has not loaded {describe_extent(lacking)}; "
        logger.debug("%s", note)
    tiles = tile_folder(folder)
    missing = missing_extent(tiles, grid)
    if missing is None:
        return read_mosaic(tiles, grid, n_bands, "cubic"), f"GeoTIFF tiles in {tiles}"
    fill_cache(tiles, grid, missing, remote, what, note)
    assert remote is not None  # fill_cache raised otherwise
    return read_mosaic(tiles, grid, n_bands, "cubic"), f"{remote.name} (now cached in {tiles})"
