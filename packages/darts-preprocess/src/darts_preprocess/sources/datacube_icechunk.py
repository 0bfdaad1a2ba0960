"""darts-nextgen's icechunk repositories (spring 2025 on, written by smart-geocubes), opened read-only.

Layout::

    arcticdem-dir/arcticdem_{2,10,32}m.icechunk   zarr format 3: dem float32 + datamask bool,
                                                  EPSG:3413, attribute loaded_patches (tile ids)
    tcvis-dir/TCTrend<year>.icechunk              zarr format 3: TCB_slope / TCG_slope / TCW_slope
                                                  uint8, EPSG:4326, loaded_patches (row-col)

Only a read-only session of branch ``main`` is opened: nothing is written to the repository (a
newer icechunk writing to an older repository can make it unreadable to the older one). Needs the
``icechunk`` extra: ``pip install 'darts-preprocess[icechunk]'``.
"""

from __future__ import annotations

import re
from pathlib import Path

import zarr

from darts_preprocess.sources._cube import CubeSpec, Datacube, open_cube
from darts_preprocess.sources.errors import AuxDataMissingError

LAYOUT = "icechunk repository"
TCVIS_YEAR = 2019
"""TCTrend2019 holds the 2000-2019 trends, the same TCVIS as the Earth Engine asset darts uses."""
_TCTREND = re.compile(r"^TCTrend(\d{4})\.icechunk$")


def arcticdem_icechunk_path(folder: Path, resolution_m: int) -> Path:
    """Where darts-nextgen keeps the ArcticDEM repository of a resolution."""
    return folder / f"arcticdem_{resolution_m}m.icechunk"


def tcvis_icechunk_path(folder: Path) -> Path | None:
    """``TCTrend2019.icechunk`` if present, else the only ``TCTrend<year>.icechunk``, else None."""
    preferred = folder / f"TCTrend{TCVIS_YEAR}.icechunk"
    if preferred.is_dir():
        return preferred
    found = sorted(p for p in folder.glob("TCTrend*.icechunk") if _TCTREND.match(p.name) and p.is_dir())
    if len(found) > 1:
        raise AuxDataMissingError(
            f"tcvis-dir {folder} holds {[p.name for p in found]} but no TCTrend{TCVIS_YEAR}.icechunk; "
            "darts reads the 2000-2019 trends: keep only the repository to use"
        )
    return found[0] if found else None


def is_icechunk(path: Path) -> bool:
    """A folder holding an icechunk repository (its ``repo`` / ``config.yaml`` / ``refs`` entries)."""
    return path.is_dir() and any(
        (path / name).exists() for name in ("repo", "config.yaml", "refs", "snapshots")
    )


def open_icechunk_cube(path: Path, spec: CubeSpec, branch: str = "main") -> Datacube:
    """Open branch ``branch`` of the repository at ``path`` read-only."""
    try:
        import icechunk
    except ImportError as err:
        raise AuxDataMissingError(
            f"{path} is an icechunk repository, but the icechunk package is not installed; "
            "install it with `pip install 'darts-preprocess[icechunk]'`"
        ) from err
    # icechunk warns (several lines, on stderr) at every open of a local repository that local
    # storage is unsafe for concurrent commits; darts never commits, so only its errors are shown
    icechunk.set_logs_filter("icechunk=error")
    try:
        repo = icechunk.Repository.open(icechunk.local_filesystem_storage(str(path)))
        session = repo.readonly_session(branch=branch)
        group = zarr.open_group(session.store, mode="r", zarr_format=3)
    except Exception as err:  # icechunk raises its own error types for unreadable repositories
        raise AuxDataMissingError(f"{path} is not a readable icechunk repository ({branch}): {err}") from err
    return open_cube(path, LAYOUT, group, spec)
