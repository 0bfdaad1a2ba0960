"""darts-nextgen datacubes (zarr v2, icechunk) as ArcticDEM / TCVIS sources.

The cubes have the real grids, coordinates, 3600 px chunks and metadata, with only the chunks over
the synthetic scenes written; the same cube pixels are also exported as GeoTIFF tiles, so a read
from the cube must equal a read from the tiles.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import zarr
from zarr.storage import LocalStore

from darts_preprocess.sources import (
    AuxDataMissingError,
    buffered_geobox,
    discover_planet_scenes,
    load_arcticdem,
    load_planet_scene,
    load_tcvis,
)
from darts_preprocess.sources._cube import cube_window
from darts_preprocess.sources.cube_tiles import ARCTICDEM_ZARR2, arcticdem_tile_extent
from darts_preprocess.sources.datacube_zarr2 import open_zarr2_cube
from darts_preprocess.synthetic import cubes

BUFFER_M = 100.0


@pytest.fixture(scope="module")
def scenes(synthetic_planet):
    refs = discover_planet_scenes(synthetic_planet.data_dir).scenes[:2]
    return [load_planet_scene(ref) for ref in refs]


def _tiles(folder: Path, scenes) -> list[Path]:
    return [next(folder.glob(f"*{s.attrs['scene_id']}*.tif")) for s in scenes]


@pytest.fixture(scope="module")
def zarr2(tmp_path_factory, synthetic_planet, scenes) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("zarr2")
    dem_dir, tc_dir = root / "arcticdem", root / "tcvis"
    dem_dir.mkdir(), tc_dir.mkdir()
    dem_tif, tc_tif = root / "dem-tif", root / "tc-tif"
    cubes.write_arcticdem_zarr2(dem_dir, _tiles(synthetic_planet.arcticdem_dir, scenes), export_dir=dem_tif)
    cubes.write_tcvis_zarr2(tc_dir, _tiles(synthetic_planet.tcvis_dir, scenes), export_dir=tc_tif)
    return {"dem": dem_dir, "tc": tc_dir, "dem_tif": dem_tif, "tc_tif": tc_tif}


@pytest.fixture(scope="module")
def icechunk_cubes(tmp_path_factory, synthetic_planet, scenes) -> dict[str, Path]:
    pytest.importorskip("icechunk")
    root = tmp_path_factory.mktemp("icechunk")
    dem_dir, tc_dir = root / "arcticdem", root / "tcvis"
    dem_dir.mkdir(), tc_dir.mkdir()
    dem_tif, tc_tif = root / "dem-tif", root / "tc-tif"
    cubes.write_arcticdem_icechunk(
        dem_dir, _tiles(synthetic_planet.arcticdem_dir, scenes), export_dir=dem_tif
    )
    cubes.write_tctrend_icechunk(tc_dir, _tiles(synthetic_planet.tcvis_dir, scenes), export_dir=tc_tif)
    return {"dem": dem_dir, "tc": tc_dir, "dem_tif": dem_tif, "tc_tif": tc_tif}


def test_zarr2_cube_has_the_real_layout(zarr2) -> None:
    path = zarr2["dem"] / "datacube_2m_v4.1.zarr"
    assert (path / ".zmetadata").is_file()
    group = zarr.open_group(path, mode="r", zarr_format=2)
    assert group["dem"].dtype == np.float32 and group["datamask"].dtype == bool
    assert group["dem"].chunks == (3600, 3600) and group["dem"].shape == (3314694, 3314694)
    x = group["x"][:]
    assert x[0] == pytest.approx(-3314693.0) and x[-1] == pytest.approx(3314693.0)
    assert "3413" in group["spatial_ref"].attrs["crs_wkt"] or "Polar" in group["spatial_ref"].attrs["crs_wkt"]
    written = [k for k in (path / "dem").iterdir() if not k.name.startswith(".")]
    assert 1 <= len(written) <= 4  # only the chunks over the two scenes exist
    assert all(t.endswith("_2m_v4.1") for t in group.attrs["loaded_tiles"])


@pytest.mark.parametrize("layout", ["zarr2", "icechunk_cubes"])
def test_cube_reads_equal_the_same_pixels_as_tiles(layout, request, scenes) -> None:
    folders = request.getfixturevalue(layout)
    for scene in scenes:
        grid = scene.odc.geobox
        from_cube = load_arcticdem(grid, folders["dem"], BUFFER_M, remote=None)
        from_tif = load_arcticdem(grid, folders["dem_tif"], BUFFER_M, remote=None)
        assert "datacube" in from_cube.attrs["source"] or "icechunk" in from_cube.attrs["source"]
        assert from_tif.attrs["source"].startswith("GeoTIFF tiles")
        assert not np.isnan(from_cube.values).any()
        np.testing.assert_allclose(from_cube.values, from_tif.values, rtol=0, atol=1e-4)
        tc_cube = load_tcvis(grid, folders["tc"], remote=None)
        tc_tif = load_tcvis(grid, folders["tc_tif"], remote=None)
        for name in tc_cube.data_vars:
            assert not np.isnan(tc_cube[name].values).any()
            np.testing.assert_allclose(tc_cube[name].values, tc_tif[name].values, rtol=0, atol=1e-2)


class CountingStore(LocalStore):
    """A read-only local store that records every key read."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, read_only=True)
        self.keys: list[str] = []

    async def get(self, key, prototype, byte_range=None):  # type: ignore[no-untyped-def]
        self.keys.append(key)
        return await super().get(key, prototype, byte_range)


def test_reading_touches_only_the_chunks_under_the_scene(zarr2, scenes) -> None:
    path = zarr2["dem"] / "datacube_2m_v4.1.zarr"
    store = CountingStore(path)
    cube = open_zarr2_cube(path, ARCTICDEM_ZARR2, store=store)
    grid = buffered_geobox(scenes[0].odc.geobox, BUFFER_M)
    store.keys.clear()
    cube.read(grid, "cubic")
    (r0, r1), (c0, c1) = cube_window(cube.grid, grid)
    expected = {
        f"{var}/{r}.{c}"
        for var in ("dem", "datamask")
        for r in range(r0 // 3600, (r1 - 1) // 3600 + 1)
        for c in range(c0 // 3600, (c1 - 1) // 3600 + 1)
    }
    chunk_keys = {k for k in store.keys if k.startswith(("dem/", "datamask/")) and not k.endswith(".zarray")}
    assert chunk_keys == expected
    assert len(expected) <= 8  # at most 2 x 2 chunks per variable for a scene this small


def test_datamask_and_unloaded_areas_are_nodata(zarr2, scenes, tmp_path: Path) -> None:
    folder = tmp_path / "arcticdem"
    shutil.copytree(zarr2["dem"], folder)
    path = folder / "datacube_2m_v4.1.zarr"
    grid = buffered_geobox(scenes[0].odc.geobox, BUFFER_M)
    cube = open_zarr2_cube(path, ARCTICDEM_ZARR2)
    (r0, r1), (c0, c1) = cube_window(cube.grid, grid)
    group = zarr.open_group(path, mode="r+", zarr_format=2)
    rm, cm = (r0 + r1) // 2, (c0 + c1) // 2
    group["datamask"][rm - 20 : rm + 20, cm - 20 : cm + 20] = False  # dem keeps its values there
    dem = load_arcticdem(scenes[0].odc.geobox, folder, BUFFER_M, remote=None).values
    assert np.isnan(dem).sum() > 100 and not (dem == 0).any()
    # a chunk written but not listed in loaded_tiles does not count: offline, the scene fails clearly
    group.attrs["loaded_tiles"] = []
    zarr.consolidate_metadata(path, zarr_format=2)
    with pytest.raises(AuxDataMissingError) as err:
        load_arcticdem(scenes[0].odc.geobox, folder, BUFFER_M, remote=None)
    message = str(err.value)
    assert str(folder) in message and "lon" in message and "offline" in message


def test_tcvis_chunks_not_loaded_are_missing_not_zero(zarr2, scenes, tmp_path: Path) -> None:
    folder = tmp_path / "tcvis"
    shutil.copytree(zarr2["tc"], folder)
    path = folder / "tcvis_2000-2019.zarr"
    group = zarr.open_group(path, mode="r+", zarr_format=2)
    group.attrs["loaded_tiles"] = group.attrs["loaded_tiles"][1:]  # the second scene's chunk only
    zarr.consolidate_metadata(path, zarr_format=2)
    with pytest.raises(AuxDataMissingError, match=r"tcvis_2000-2019\.zarr has not loaded"):
        load_tcvis(scenes[0].odc.geobox, folder, remote=None)
    assert not np.isnan(load_tcvis(scenes[1].odc.geobox, folder, remote=None)["tc_wetness"].values).any()


def test_folder_with_cube_and_tiles_says_which_served(
    zarr2, synthetic_planet, scenes, tmp_path: Path
) -> None:
    folder = tmp_path / "arcticdem"
    cubes.write_arcticdem_zarr2(folder.parent / "one", _tiles(synthetic_planet.arcticdem_dir, scenes[:1]))
    shutil.copytree(folder.parent / "one", folder)
    for tile in sorted(zarr2["dem_tif"].glob("*.tif")):
        shutil.copy(tile, folder / tile.name)
    first = load_arcticdem(scenes[0].odc.geobox, folder, BUFFER_M, remote=None)
    second = load_arcticdem(scenes[1].odc.geobox, folder, BUFFER_M, remote=None)
    assert first.attrs["source"].startswith("zarr v2 datacube")
    assert second.attrs["source"] == f"GeoTIFF tiles in {folder}"


def test_icechunk_repository_is_not_modified_by_reading(icechunk_cubes, scenes) -> None:
    def snapshot(root: Path) -> dict[str, tuple[int, int]]:
        return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}

    before = snapshot(icechunk_cubes["dem"])
    dem = load_arcticdem(scenes[0].odc.geobox, icechunk_cubes["dem"], BUFFER_M, remote=None)
    assert dem.attrs["source"].startswith("icechunk repository")
    assert snapshot(icechunk_cubes["dem"]) == before


def test_pgc_tile_ids_place_tiles_on_the_polar_grid() -> None:
    # 100 km tiles numbered from 1 at (-4000 km, -4000 km), row first; 2 m sub-tiles are the 50 km
    # quarters, named <row>_<col>_<sub-row>_<sub-col> from the lower left (PGC's tile divider)
    assert arcticdem_tile_extent("36_24_32m_v4.1", None, (0, 0)).bounds == (
        -1_700_000.0,
        -500_000.0,
        -1_600_000.0,
        -400_000.0,
    )
    assert arcticdem_tile_extent("36_24_2_1_2m_v4.1", None, (0, 0)).bounds == (
        -1_700_000.0,
        -450_000.0,
        -1_650_000.0,
        -400_000.0,
    )
    assert arcticdem_tile_extent("36_24_1_2_2m_v4.1", None, (0, 0)).bounds == (
        -1_650_000.0,
        -500_000.0,
        -1_600_000.0,
        -450_000.0,
    )
    assert arcticdem_tile_extent("not-a-tile", None, (0, 0)) is None
