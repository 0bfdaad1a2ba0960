"""The training guide's example config with darts-nextgen datacube folders (no GeoTIFF tile).

`darts preprocess-planet-train-data`, offline, must build from the zarr v2 datacubes the same set
it builds from GeoTIFF tiles holding the same pixels, and say per scene which source served it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tomli_w
import zarr

from darts_cli.app import main
from darts_core.trainset_layout import SPLITS, split_path
from darts_preprocess.synthetic import cubes
from darts_preprocess.synthetic.collections import SyntheticCollection, generate_planet_collection

EXAMPLE_CONFIG = Path(__file__).parents[2] / "configs" / "planet-sweep-config.toml"
N_SCENES = 6


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory, rts_labels_dir: Path) -> SyntheticCollection:
    return generate_planet_collection(
        tmp_path_factory.mktemp("cube-synthetic"), rts_labels_dir, n_scenes=N_SCENES, size_px=96, seed=11
    )


LAYOUTS = {"zarr2": "zarr v2 datacube", "icechunk": "icechunk repository"}


@pytest.fixture(scope="module", params=list(LAYOUTS))
def folders(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, collection: SyntheticCollection
) -> dict[str, Path]:
    """Datacube-only folders (as darts-nextgen leaves them) and GeoTIFF folders with the same pixels."""
    if request.param == "icechunk":
        pytest.importorskip("icechunk")
    root = tmp_path_factory.mktemp(f"cube-folders-{request.param}")
    out = {name: root / name for name in ("arcticdem", "tcvis", "dem-tif", "tc-tif")}
    dem_tiles = sorted(collection.arcticdem_dir.glob("*.tif"))
    tc_tiles = sorted(collection.tcvis_dir.glob("*.tif"))
    if request.param == "zarr2":
        cubes.write_arcticdem_zarr2(out["arcticdem"], dem_tiles, export_dir=out["dem-tif"])
        cubes.write_tcvis_zarr2(out["tcvis"], tc_tiles, export_dir=out["tc-tif"])
    else:
        for name in ("arcticdem", "tcvis"):
            out[name].mkdir()
        cubes.write_arcticdem_icechunk(out["arcticdem"], dem_tiles, export_dir=out["dem-tif"])
        cubes.write_tctrend_icechunk(out["tcvis"], tc_tiles, export_dir=out["tc-tif"])
    out["layout"] = Path(request.param)
    return out


def guide_config(c: SyntheticCollection, tmp: Path, arcticdem: Path, tcvis: Path) -> Path:
    """The example config of the guide with its paths replaced by test folders."""
    config: dict[str, Any] = tomllib.loads(EXAMPLE_CONFIG.read_text())
    paths = config["darts"]["paths"]
    paths.update(
        {
            "data-dir": str(c.data_dir),
            "labels-dir": str(c.labels_dir),
            "arcticdem-dir": str(arcticdem),
            "tcvis-dir": str(tcvis),
            "admin-dir": str(c.admin_dir),
            "train-data-dir": str(tmp / "set"),
            "preprocess-cache": str(tmp / "cache"),
            "sweep-config": str(tmp / "sweep.yaml"),
            "artifact-dir": str(tmp / "artifacts"),
        }
    )
    path = tmp / "config.toml"
    path.write_text(tomli_w.dumps(config))
    return path


def run(tmp: Path, config: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> int:
    monkeypatch.chdir(tmp)
    # scenes of 96 px: the guide's 896 px patches do not fit; everything else is the guide's
    args = [
        "--config-file",
        str(config),
        "--patch-size",
        "32",
        "--overlap",
        "4",
        "--dask-worker",
        "1",
        *extra,
    ]
    with pytest.raises(SystemExit) as exit_info:
        main(["--log-dir", str(tmp / "logs"), "preprocess-planet-train-data", *args])
    return int(exit_info.value.code or 0)


def logged(tmp: Path) -> str:
    return "\n".join(p.read_text() for p in (tmp / "logs").rglob("*") if p.is_file())


def test_guide_config_with_datacubes_builds_the_set_it_builds_from_tiles(
    collection: SyntheticCollection, folders: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DARTS_OFFLINE", "1")  # nothing may be fetched: the cubes must serve every scene
    from_cubes, from_tiles = tmp_path / "cubes", tmp_path / "tiles"
    from_cubes.mkdir(), from_tiles.mkdir()
    config = guide_config(collection, from_cubes, folders["arcticdem"], folders["tcvis"])
    assert run(from_cubes, config, monkeypatch) == 0
    config = guide_config(collection, from_tiles, folders["dem-tif"], folders["tc-tif"])
    assert run(from_tiles, config, monkeypatch) == 0

    log = logged(from_cubes)
    layout = LAYOUTS[str(folders["layout"])]
    served = [ln for ln in log.splitlines() if f"ArcticDEM from {layout}" in ln]
    assert len(served) == N_SCENES and all(f"TCVIS from {layout}" in ln for ln in served)
    assert "GeoTIFF tiles" not in log and "fetching" not in log
    assert "ArcticDEM from GeoTIFF tiles" in logged(from_tiles)

    for split in SPLITS:
        a = zarr.open_group(split_path(from_cubes / "set", split), mode="r")
        b = zarr.open_group(split_path(from_tiles / "set", split), mode="r")
        assert sorted(a.array_keys()) == sorted(b.array_keys())
        assert [s["id"] for s in a.attrs["scenes"]] == [s["id"] for s in b.attrs["scenes"]]
        for name in a.array_keys():
            x, y = a[name][:], b[name][:]
            assert x.shape == y.shape, f"{split}/{name}"
            if np.issubdtype(x.dtype, np.floating):  # TCVIS: uint8 tiles vs float reads, ~1e-3 of 255
                np.testing.assert_allclose(x, y, rtol=0, atol=1e-4, err_msg=f"{split}/{name}")
            else:
                np.testing.assert_array_equal(x, y, err_msg=f"{split}/{name}")
    n_patches = sum(
        zarr.open_group(split_path(from_cubes / "set", s), mode="r")["x"].shape[0] for s in SPLITS
    )
    assert n_patches > 0


def test_offline_without_data_skips_every_scene_at_once_naming_folder_and_extent(
    collection: SyntheticCollection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-arcticdem"
    empty.mkdir()
    config = guide_config(collection, tmp_path, empty, collection.tcvis_dir)
    assert run(tmp_path, config, monkeypatch, "--offline") != 0  # no scene could be processed
    skipped = [ln for ln in logged(tmp_path).splitlines() if "skipped:" in ln and "AuxDataMissingError" in ln]
    assert len(skipped) == N_SCENES
    assert all(str(empty) in ln and "lon" in ln and "offline" in ln for ln in skipped)


def test_unreachable_stac_gives_one_log_line_per_skipped_scene(
    collection: SyntheticCollection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from darts_preprocess.sources import arcticdem

    with socket.socket() as sock:  # a port nobody listens on: connection refused, nothing leaves the machine
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(arcticdem, "PGC_STAC_URL", f"http://127.0.0.1:{port}/api/v1/")
    monkeypatch.delenv("DARTS_OFFLINE", raising=False)
    empty = tmp_path / "empty-arcticdem"
    empty.mkdir()
    config = guide_config(collection, tmp_path, empty, collection.tcvis_dir)
    assert run(tmp_path, config, monkeypatch) != 0
    log = logged(tmp_path)
    skipped = [ln for ln in log.splitlines() if "skipped:" in ln]
    assert len(skipped) == N_SCENES, skipped
    # the first refusal marks the STAC unreachable: the other scenes do not try again (2 scenes run at once)
    assert sum("found earlier in this run, not retried" in ln for ln in skipped) >= N_SCENES - 2
    assert "Retrying" not in log
    assert all(len(ln) < 700 for ln in skipped)  # the reason is short, not the whole urllib3 chain
    for ln in log.splitlines():
        if "WARNING" in ln and "arcticdem-stac" in ln:
            assert "skipped:" in ln, ln  # no other warning about the service
