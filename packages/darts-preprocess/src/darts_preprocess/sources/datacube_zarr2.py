"""darts-nextgen's zarr format 2 datacubes (early 2025), opened read-only.

Layout::

    arcticdem-dir/datacube_{2,10,32}m_v4.1.zarr   EPSG:3413, dem float32 + datamask bool,
                                                  chunks 3600 x 3600, consolidated metadata,
                                                  attribute loaded_tiles (mosaic tile ids)
    tcvis-dir/tcvis_2000-2019.zarr                EPSG:4326 (lon -180..180, lat 60..90),
                                                  tc_brightness / tc_greenness / tc_wetness uint8,
                                                  attribute loaded_tiles (chunk indices row_col)

Both carry 1-D ``x`` / ``y`` coordinates and a ``spatial_ref`` coordinate with the CRS.
"""

from __future__ import annotations

from pathlib import Path

import zarr
from zarr.abc.store import Store
from zarr.storage import LocalStore

from darts_preprocess.sources._cube import CubeSpec, Datacube, open_cube
from darts_preprocess.sources.errors import AuxDataMissingError

LAYOUT = "zarr v2 datacube"


def arcticdem_zarr2_path(folder: Path, resolution_m: int) -> Path:
    """Where darts-nextgen keeps the ArcticDEM cube of a resolution."""
    return folder / f"datacube_{resolution_m}m_v4.1.zarr"


def tcvis_zarr2_path(folder: Path) -> Path:
    """Where darts-nextgen keeps the TCVIS cube."""
    return folder / "tcvis_2000-2019.zarr"


def is_zarr2(path: Path) -> bool:
    """A folder holding a zarr format 2 group."""
    return path.is_dir() and ((path / ".zgroup").is_file() or (path / ".zmetadata").is_file())


def open_zarr2_cube(path: Path, spec: CubeSpec, store: Store | None = None) -> Datacube:
    """Open the cube at ``path`` read-only (``store`` replaces the local store, e.g. in tests)."""
    store = store if store is not None else LocalStore(path, read_only=True)
    try:
        group = zarr.open_group(store, mode="r", zarr_format=2, use_consolidated=None)
    except (FileNotFoundError, ValueError, KeyError) as err:
        raise AuxDataMissingError(f"{path} is not a readable zarr format 2 group: {err}") from err
    return open_cube(path, LAYOUT, group, spec)
