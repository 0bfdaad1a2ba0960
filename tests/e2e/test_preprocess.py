"""`darts preprocess-planet-train-data` / `preprocess-s2-train-data` through the real CLI.

Scenes are generated on the real label sites (tests/data/rts-labels); the Sentinel-2 samples
are made from the same scenes in the reference sample-folder layout (SR + SCL + own labels file).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import zarr
from rasterio.features import geometry_mask

from darts_cli.app import main
from darts_core.trainset_layout import SPLITS, split_path
from darts_preprocess.labels.collection import load_label_collection, match_scenes
from darts_preprocess.sources.planet import discover_planet_scenes, read_udm2_quality
from darts_preprocess.synthetic.collections import SyntheticCollection, generate_planet_collection

N_SCENES = 6
PATCH, OVERLAP = 32, 4
TAIMYR = {"3649691_4572917_2020-08-14_1039", "4770635_4572716_2021-08-06_2416"}
BANDS = ["red", "green", "nir", "ndvi", "slope", "tc_wetness"]


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory, rts_labels_dir: Path) -> SyntheticCollection:
    return generate_planet_collection(
        tmp_path_factory.mktemp("e2e-synthetic"), rts_labels_dir, n_scenes=N_SCENES, size_px=96, seed=11
    )


def planet_args(c: SyntheticCollection, out: Path, **extra: Any) -> list[str]:
    options: dict[str, Any] = {
        "data-dir": c.data_dir,
        "labels-dir": c.labels_dir,
        "train-data-dir": out,
        "arcticdem-dir": c.arcticdem_dir,
        "tcvis-dir": c.tcvis_dir,
        "admin-dir": c.admin_dir,
        "patch-size": PATCH,
        "overlap": OVERLAP,
        "mask-erosion-size": 0,
        "test-val-split": 0.5,
        "dask-worker": 1,
    } | extra
    args = [f"--{k}={v}" for k, v in options.items()]
    return [*args, "--bands", *BANDS, "--test-regions", c.test_region]


def run_darts(tmp_path: Path, command: str, args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["--log-dir", str(tmp_path / "logs"), command, *args])
    return int(exit_info.value.code or 0)


def split_scenes(out: Path) -> dict[str, list[str]]:
    return {
        s: [x["id"] for x in zarr.open_group(split_path(out, s), mode="r").attrs["scenes"]] for s in SPLITS
    }


def assert_valid_set(out: Path) -> None:
    from darts_dataset import validate_train_data

    report = validate_train_data(out, n_folds=2)
    assert report.ok, report.violations


def test_planet_builds_a_valid_set(
    collection: SyntheticCollection,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    out = tmp_path / "planet-set"
    assert run_darts(tmp_path, "preprocess-planet-train-data", planet_args(collection, out), monkeypatch) == 0
    assert_valid_set(out)
    scenes = split_scenes(out)
    assert set(scenes["test"]) == TAIMYR  # the test region lands in test.zarr
    listed = [s for split in SPLITS for s in scenes[split]]
    assert len(listed) == len(set(listed)) == N_SCENES  # no scene in two splits
    assert all(scenes[s] for s in SPLITS)
    assert expected_patch_count(collection) == sum(
        zarr.open_group(split_path(out, s), mode="r")["x"].shape[0] for s in SPLITS
    )
    printed = capsys.readouterr().out
    assert "cross-val" in printed and "manifest.json" in printed


def expected_patch_count(c: SyntheticCollection) -> int:
    """Patches kept with exclude-nan and the 10 % rule, counted from the raw files (erosion 0).

    Independent of the pipeline: valid = high quality (udm2) inside the footprint (or the image),
    NaN = any SR band 0 or udm2 unusable; DEM and TCVIS cover every scene.
    """
    footprints = match_scenes(load_label_collection(c.labels_dir), list(c.scene_ids)).scenes
    total = 0
    for ref in discover_planet_scenes(c.data_dir).scenes:
        with rasterio.open(ref.sr_path) as src:
            sr, transform, crs = src.read(), src.transform, src.crs
        with rasterio.open(ref.udm2_path) as src:
            quality = read_udm2_quality(src.read())
        nan = (sr == 0).any(axis=0) | (quality == 0)
        inside = np.ones(quality.shape, dtype=bool)
        footprint = footprints[ref.scene_id].footprint
        if footprint is not None:
            geom = gpd.GeoSeries([footprint], crs="EPSG:4326").to_crs(crs).iloc[0]
            inside = geometry_mask([geom], quality.shape, transform, invert=True)
        valid = (quality == 2) & inside & ~nan
        h, w = quality.shape
        rows = _origins(h)
        cols = _origins(w)
        for r in rows:
            for c in cols:
                window = (slice(r, r + PATCH), slice(c, c + PATCH))
                if not nan[window].any() and valid[window].sum() >= 0.1 * PATCH * PATCH:
                    total += 1
    return total


def _origins(length: int) -> list[int]:
    step = PATCH - OVERLAP
    n = 1 + -(-(length - PATCH) // step)  # ceil
    return [min(i * step, length - PATCH) for i in range(n)]


def test_sigkill_and_rerun_gives_the_identical_set(
    collection: SyntheticCollection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean, killed, cache = tmp_path / "clean", tmp_path / "killed", tmp_path / "cache"
    assert (
        run_darts(tmp_path, "preprocess-planet-train-data", planet_args(collection, clean), monkeypatch) == 0
    )
    args = planet_args(collection, killed, **{"preprocess-cache": cache})
    darts = Path(sys.executable).with_name("darts")
    proc = subprocess.Popen(
        [str(darts), "--log-dir", str(tmp_path / "logs"), "preprocess-planet-train-data", *args],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if any(cache.glob("patches-*/*/outcome.json")):
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(list(cache.glob("patches-*/*/outcome.json")))
    assert proc.returncode == -signal.SIGKILL and 0 < finished < N_SCENES
    assert not (killed / "config.toml").exists()  # an interrupted set is never marked complete
    assert run_darts(tmp_path, "preprocess-planet-train-data", args, monkeypatch) == 0
    assert_identical(clean, killed)


def assert_identical(a: Path, b: Path) -> None:
    for split in SPLITS:
        ga, gb = (
            zarr.open_group(split_path(a, split), mode="r"),
            zarr.open_group(split_path(b, split), mode="r"),
        )
        assert sorted(ga.array_keys()) == sorted(gb.array_keys())
        for name in ga.array_keys():
            np.testing.assert_array_equal(ga[name][:], gb[name][:], err_msg=f"{split}/{name}")
        assert dict(ga.attrs) == dict(gb.attrs)
    config_a = (a / "config.toml").read_text().replace(str(a), "OUT")
    config_b = (b / "config.toml").read_text().replace(str(b), "OUT")
    drop = ("preprocess_cache",)
    assert [ln for ln in config_a.splitlines() if not ln.startswith(drop)] == [
        ln for ln in config_b.splitlines() if not ln.startswith(drop)
    ]
    assert (a / "labels.geojson").read_text() == (b / "labels.geojson").read_text()


def make_s2_samples(c: SyntheticCollection, out: Path) -> Path:
    """Reference-layout Sentinel-2 samples from the synthetic scenes: SR, SCL and the sample's labels."""
    found = match_scenes(load_label_collection(c.labels_dir), list(c.scene_ids)).scenes
    for ref in discover_planet_scenes(c.data_dir).scenes:
        sample = out / f"S2B_MSIL2A_{ref.date.replace('-', '')}T000000_N0300_{ref.scene_id[-4:]}"
        sample.mkdir(parents=True)
        shutil.copy(ref.sr_path, sample / f"{sample.name}_SR.tif")
        with rasterio.open(ref.udm2_path) as src:
            quality, profile = read_udm2_quality(src.read()), src.profile
        scl = np.select([quality == 0, quality == 1], [0, 9], default=4).astype(np.uint8)
        with rasterio.open(sample / f"{sample.name}_SCL.tif", "w", **(profile | {"count": 1})) as dst:
            dst.write(scl[None])
        labels = found[ref.scene_id].labels[["geometry"]].assign(label=1)
        labels.to_file(sample / f"{sample.name}.gpkg")
    return out


def test_s2_builds_a_valid_set(
    collection: SyntheticCollection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s2 = make_s2_samples(collection, tmp_path / "s2")
    out = tmp_path / "s2-set"
    # two local worker processes: the default (own LocalCluster) path of every multi-core machine
    args = planet_args(collection, out, **{"dask-worker": 2})
    args = [a for a in args if not a.startswith(("--data-dir", "--labels-dir"))]
    assert run_darts(tmp_path, "preprocess-s2-train-data", [*args, f"--sentinel2-dir={s2}"], monkeypatch) == 0
    assert_valid_set(out)
    scenes = split_scenes(out)
    assert len(scenes["test"]) == 2 and all(s.startswith("S2B_MSIL2A_") for s in scenes["test"])
    labels = gpd.read_file(out / "labels.geojson")
    assert (labels["status"] == "burned").sum() > 0 and labels.crs.to_epsg() == 3413
    assert tomllib.loads((out / "config.toml").read_text())["darts"]["dask_worker"] == 2


def _bad_input(c: SyntheticCollection, tmp_path: Path, kind: str) -> list[str]:
    """Arguments for one kind of bad input (copies the scene folder it breaks)."""
    out = tmp_path / f"bad-{kind}"
    if kind == "unknown band":
        return [*planet_args(c, out), "--bands", "red", "infrared"]
    if kind == "unknown region":
        return [*planet_args(c, out), "--test-regions", "Taymyr"]
    data = tmp_path / "data"
    if kind == "no matching labels":
        shutil.copytree(next(c.data_dir.rglob("20200722_081437_1032")), data / "20200722_081437_1032")
        labels = tmp_path / "labels"
        shutil.copytree(c.labels_dir / "TrainingLabel_RTS_PlanetScope_Nitze_iteration004", labels / "it4")
        return planet_args(c, out, **{"data-dir": data, "labels-dir": labels})
    shutil.copytree(c.data_dir, data)
    if kind == "missing SR":
        next(data.rglob("20200722_081437_1032/*_SR.tif")).unlink()
    else:  # udm2 of another size
        udm2 = next(data.rglob("4713120_5272315_2021-07-21_2463/*_udm2_clip.tif"))
        with rasterio.open(udm2) as src:
            cropped, profile = (
                src.read()[:, :-5, :-5],
                src.profile | {"height": src.height - 5, "width": src.width - 5},
            )
        with rasterio.open(udm2, "w", **profile) as dst:
            dst.write(cropped)
    return planet_args(c, out, **{"data-dir": data})


@pytest.mark.parametrize(
    ("kind", "code", "message"),
    [
        ("unknown band", 2, "unknown band"),
        ("unknown region", 1, "Taymyrsky Dolgano-Nenetsky District"),
        ("no matching labels", 1, "none of the 1 scene(s) matches"),
        ("missing SR", 0, "without a surface-reflectance file"),
        ("udm2 of another size", 0, "expected the grid of"),
    ],
)
def test_bad_inputs_give_clear_messages(
    collection: SyntheticCollection,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    kind: str,
    code: int,
    message: str,
) -> None:
    args = _bad_input(collection, tmp_path, kind)
    assert run_darts(tmp_path, "preprocess-planet-train-data", args, monkeypatch) == code
    captured = capsys.readouterr()
    assert message in captured.out + captured.err


def test_config_toml_fed_back_warns_nothing_and_reproduces_the_set(
    collection: SyntheticCollection,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A set's own config.toml is a valid darts config: no unknown keys, and it rebuilds the set."""
    out, again = tmp_path / "set", tmp_path / "again"
    assert run_darts(tmp_path, "preprocess-planet-train-data", planet_args(collection, out), monkeypatch) == 0
    capsys.readouterr()
    config_file = str(out / "config.toml")
    validate = ["--config-file", config_file, "--train-data-dir", str(out), "--n-folds", "2"]
    assert run_darts(tmp_path, "validate-train-data", validate, monkeypatch) == 0
    rebuild = ["--config-file", config_file, "--train-data-dir", str(again)]
    assert run_darts(tmp_path, "preprocess-planet-train-data", rebuild, monkeypatch) == 0
    captured = capsys.readouterr()
    logged = captured.out + captured.err + caplog.text
    assert "label image id(s) match no scene" in logged  # warnings are captured here
    assert "unknown key" not in logged, logged
    assert_identical(out, again)
    # the same file on the set itself: identical settings, so it re-assembles instead of refusing
    assert (
        run_darts(tmp_path, "preprocess-planet-train-data", ["--config-file", config_file], monkeypatch) == 0
    )
    assert_identical(again, out)
