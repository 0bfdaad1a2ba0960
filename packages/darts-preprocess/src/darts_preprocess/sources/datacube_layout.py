"""Which darts-nextgen datacube an ArcticDEM / TCVIS folder holds, if any (detected by layout).

A folder may hold a zarr v2 datacube, an icechunk repository, our GeoTIFF tiles, or several of
them; the loaders try the datacube first (see :func:`.arcticdem.load_arcticdem`). ``arcticdem-dir``
/ ``tcvis-dir`` may also point at the cube itself (``….zarr`` / ``….icechunk``).
"""

from __future__ import annotations

from pathlib import Path

from darts_preprocess.sources._cube import CubeSpec, Datacube
from darts_preprocess.sources.cube_tiles import (
    ARCTICDEM_ICECHUNK,
    ARCTICDEM_ZARR2,
    TCVIS_ICECHUNK,
    TCVIS_ZARR2,
)
from darts_preprocess.sources.datacube_icechunk import (
    arcticdem_icechunk_path,
    is_icechunk,
    open_icechunk_cube,
    tcvis_icechunk_path,
)
from darts_preprocess.sources.datacube_zarr2 import (
    arcticdem_zarr2_path,
    is_zarr2,
    open_zarr2_cube,
    tcvis_zarr2_path,
)


def _open(path: Path, zarr2: CubeSpec, icechunk: CubeSpec) -> Datacube | None:
    if is_zarr2(path):
        return open_zarr2_cube(path, zarr2)
    if is_icechunk(path):
        return open_icechunk_cube(path, icechunk)
    return None


def find_arcticdem_cube(folder: Path, resolution_m: int) -> Datacube | None:
    """The ArcticDEM cube of ``resolution_m`` in ``folder`` (zarr v2 first, then icechunk), or None."""
    if folder.suffix in (".zarr", ".icechunk"):
        return _open(folder, ARCTICDEM_ZARR2, ARCTICDEM_ICECHUNK)
    for path in (arcticdem_zarr2_path(folder, resolution_m), arcticdem_icechunk_path(folder, resolution_m)):
        cube = _open(path, ARCTICDEM_ZARR2, ARCTICDEM_ICECHUNK)
        if cube is not None:
            return cube
    return None


def find_tcvis_cube(folder: Path) -> Datacube | None:
    """The TCVIS cube in ``folder`` (``tcvis_2000-2019.zarr``, then ``TCTrend2019.icechunk``), or None."""
    if folder.suffix in (".zarr", ".icechunk"):
        return _open(folder, TCVIS_ZARR2, TCVIS_ICECHUNK)
    cube = _open(tcvis_zarr2_path(folder), TCVIS_ZARR2, TCVIS_ICECHUNK)
    if cube is not None:
        return cube
    if not folder.is_dir():
        return None
    repo = tcvis_icechunk_path(folder)
    return _open(repo, TCVIS_ZARR2, TCVIS_ICECHUNK) if repo is not None else None
