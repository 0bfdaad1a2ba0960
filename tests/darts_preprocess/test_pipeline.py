"""The preprocessing pipeline on generated PlanetScope scenes placed on the real label sites."""

from __future__ import annotations

import json
import shutil
import threading
import tomllib
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pydantic
import pytest
import zarr

from darts_core.bands import BANDS
from darts_core.errors import DartsError, DartsInputError
from darts_core.trainset_layout import SPLITS, split_path
from darts_preprocess.config import PlanetPreprocessConfig
from darts_preprocess.pipeline import preprocess_planet_train_data
from darts_preprocess.synthetic.collections import SyntheticCollection, generate_planet_collection

N_SCENES = 6
BANDS_USED = ("blue", "green", "red", "nir", "ndvi", "relative_elevation", "slope", "tc_greenness")


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory, rts_labels_dir: Path) -> SyntheticCollection:
    return generate_planet_collection(
        tmp_path_factory.mktemp("synthetic"), rts_labels_dir, n_scenes=N_SCENES, size_px=96, seed=3
    )


def make_config(collection: SyntheticCollection, out: Path, **overrides: Any) -> PlanetPreprocessConfig:
    settings: dict[str, Any] = {
        "data_dir": collection.data_dir,
        "labels_dir": collection.labels_dir,
        "train_data_dir": out,
        "arcticdem_dir": collection.arcticdem_dir,
        "tcvis_dir": collection.tcvis_dir,
        "admin_dir": collection.admin_dir,
        "test_regions": [collection.test_region],
        "bands": BANDS_USED,
        "patch_size": 32,
        "overlap": 4,
        "mask_erosion_size": 2,
        "test_val_split": 0.4,
        "dask_worker": 1,
    }
    return PlanetPreprocessConfig(**(settings | overrides))


def read_set(root: Path) -> dict[str, Any]:
    """Everything of a training set that must be reproducible, as plain values."""
    out: dict[str, Any] = {"config": (root / "config.toml").read_text()}
    for split in SPLITS:
        group = zarr.open_group(split_path(root, split), mode="r")
        out[split] = {name: np.asarray(group[name][:]) for name in group.array_keys()}
        out[split + "-attrs"] = dict(group.attrs)
    out["labels"] = (root / "labels.geojson").read_text()
    return out


def assert_same_set(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], dict) and key in SPLITS:
            assert a[key].keys() == b[key].keys()
            for name in a[key]:
                np.testing.assert_array_equal(a[key][name], b[key][name], err_msg=f"{key}/{name}")
        else:
            assert a[key] == b[key], key


@pytest.fixture(scope="module")
def built(collection: SyntheticCollection, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    out = tmp_path_factory.mktemp("set") / "train"
    result = preprocess_planet_train_data(make_config(collection, out, dask_threads=2), progress=False)
    return out, result


def test_layout_and_values(built: tuple[Path, Any]) -> None:
    out, result = built
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["config.toml", "labels.geojson", "preprocess-report.json", *(f"{s}.zarr" for s in SPLITS)]
    )
    total = 0
    for split in SPLITS:
        group = zarr.open_group(split_path(out, split), mode="r")
        x, y = group["x"][:], group["y"][:]
        assert x.dtype == np.float32 and y.dtype == np.uint8
        assert x.shape[1:] == (len(BANDS_USED), 32, 32) and y.shape[1:] == (32, 32)
        assert len(x) == len(y) == result.n_patches[split] == group["scene_index"].shape[0]
        assert np.isfinite(x).all() and x.min() >= 0 and x.max() <= 1
        assert set(np.unique(y)) <= {0, 1, 2}
        assert group.attrs["bands"] == list(BANDS_USED)
        assert [s["id"] for s in group.attrs["scenes"]] == result.scenes[split]
        total += len(x)
    assert total > 0 and result.n_patches["test"] > 0 and result.n_patches["cross-val"] > 0
    cross = zarr.open_group(split_path(out, "cross-val"), mode="r")
    assert (cross["y"][:] == 1).any()  # the real polygons were burned


def test_every_scene_in_exactly_one_split(built: tuple[Path, Any], collection: SyntheticCollection) -> None:
    _, result = built
    listed = [s for split in SPLITS for s in result.scenes[split]]
    assert sorted(listed) == sorted(collection.scene_ids) and len(set(listed)) == len(listed)
    # the two Taimyr scenes lie in the test region
    assert set(result.scenes["test"]) == {
        "3649691_4572917_2020-08-14_1039",
        "4770635_4572716_2021-08-06_2416",
    }


def test_config_toml_records_everything(built: tuple[Path, Any], collection: SyntheticCollection) -> None:
    out, result = built
    darts = tomllib.loads((out / "config.toml").read_text())["darts"]
    assert darts["bands"] == list(BANDS_USED)
    assert darts["norm_factors"] == {b: BANDS[b].norm_factor for b in BANDS_USED}
    assert darts["band_encodings"]["ndvi"] == "(ndvi + 1) * 1e4"
    assert darts["n_patches"] == result.n_patches
    assert (darts["patch_size"], darts["overlap"], darts["exclude_nan"]) == (32, 4, True)
    assert darts["test_regions"] == [collection.test_region]
    assert darts["data_dir"] == str(collection.data_dir) and "overwrite" not in darts
    assert {f["kind"] for f in darts["label_files"]} == {"labels", "footprints"}
    assert all(len(f["sha256"]) == 64 for f in darts["label_files"])
    assert any(s["scene"].endswith("manifest.json") for s in darts["skipped_scenes"])
    assert darts["versions"]["darts-preprocess"] and darts["versions"]["zarr"]
    assert sum(darts["patches_removed"].values()) == sum(result.removed.values())


def test_labels_geojson(built: tuple[Path, Any]) -> None:
    out, result = built
    labels = gpd.read_file(out / "labels.geojson")
    assert labels.crs.to_epsg() == 3413
    assert labels["label_uid"].is_unique
    split_of = {s: split for split in SPLITS for s in result.scenes[split]}
    assert (labels["mode"] == labels["image_id"].map(split_of)).all()
    assert set(labels["status"]) <= {"burned", "outside_image", "too_small"}
    burned = int((labels["status"] == "burned").sum())
    assert burned == sum(r.labels["burned"] for r in result.scene_reports.values()) > 0
    # the truncated iteration005 ids are kept as the source id, matched to the full scene id
    brooks = labels[labels["image_id"] == "4688749_0470419_2021-07-12_105c"]
    assert len(brooks) and (brooks["source_image_id"] == "4688749_0470419_2021-07-12_105").all()


def test_scene_reports(built: tuple[Path, Any]) -> None:
    out, result = built
    report = json.loads((out / "preprocess-report.json").read_text())
    for scene_id, outcome in result.scene_reports.items():
        labels = outcome.labels
        assert labels["matched"] == labels["burned"] + labels["outside_image"] + labels["too_small"]
        assert outcome.n_patches + sum(outcome.removed.values()) == outcome.n_candidates
        assert report["scenes"][scene_id]["n_patches"] == outcome.n_patches
    negative = result.scene_reports["5761052_1070519_2022-07-04_241f"]
    assert negative.labels["matched"] == 0 and negative.positive_pixels == 0
    brooks = result.scene_reports["4688749_0470419_2021-07-12_105c"]
    assert brooks.labels["prefix_matched_ids"] == ["4688749_0470419_2021-07-12_105"]


def test_resume_from_cache_gives_the_same_set(
    built: tuple[Path, Any], collection: SyntheticCollection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from darts_preprocess.jobs.scene_threads import SceneThreads

    started: list[str] = []
    start = SceneThreads.start

    def recording_start(self: SceneThreads, refs: Any) -> None:
        refs = list(refs)
        started.extend(r.scene_id for r in refs)
        start(self, refs)

    monkeypatch.setattr(SceneThreads, "start", recording_start)
    reference = read_set(built[0])
    out, cache = tmp_path / "train", tmp_path / "cache"
    config = make_config(collection, out, preprocess_cache=cache)
    first = preprocess_planet_train_data(config, progress=False)
    assert first.n_processed == N_SCENES and first.n_resumed == 0
    assert len(started) == N_SCENES  # a fresh run loads every scene, from before the labels are read
    started.clear()
    first_set = read_set(out)
    # the kept cache lends no chunk file to the set (a hard link would share later changes)
    assert all(f.stat().st_nlink == 1 for f in (out / "cross-val.zarr" / "x").rglob("*") if f.is_file())
    # same arrays, labels and attrs as the reference set; config.toml differs only in paths
    assert_same_set(first_set, reference | {"config": first_set["config"]})
    # simulate an interrupted run: two scenes lost from the cache, the set never finished
    (out / "config.toml").unlink()
    scene_dirs = sorted(p for p in next(cache.glob("patches-*")).iterdir() if p.is_dir())
    for lost in scene_dirs[:2]:
        shutil.rmtree(lost)
    again = preprocess_planet_train_data(config, progress=False)
    assert (again.n_processed, again.n_resumed) == (2, N_SCENES - 2)
    assert sorted(started) == sorted(p.name for p in scene_dirs[:2])  # cached scenes are not loaded
    assert_same_set(read_set(out), first_set)  # byte-identical config.toml included


def test_dask_scheduler_gives_the_same_set(
    built: tuple[Path, Any], collection: SyntheticCollection, tmp_path: Path
) -> None:
    """Two dask worker processes behind a scheduler address, as on a real distributed cluster.

    Worker processes (not threads) so that the scene jobs really travel pickled to other
    interpreters that import darts_preprocess themselves, and write the shared cache concurrently.
    """
    from distributed import LocalCluster

    reference = read_set(built[0])
    out = tmp_path / "train"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        config = make_config(collection, out, dask_scheduler=cluster.scheduler_address)
        result = preprocess_planet_train_data(config, progress=False)
    assert result.n_processed == N_SCENES
    other = read_set(out)
    config_ref = tomllib.loads(reference.pop("config"))["darts"]
    config_new = tomllib.loads(other.pop("config"))["darts"]
    ignored = ("train_data_dir", "dask_scheduler", "dask_threads")
    assert {k: v for k, v in config_new.items() if k not in ignored} == {
        k: v for k, v in config_ref.items() if k not in ignored
    }
    assert_same_set(other, reference)


def test_one_scene_at_a_time_gives_the_same_set(
    built: tuple[Path, Any], collection: SyntheticCollection, tmp_path: Path
) -> None:
    reference = read_set(built[0])
    result = preprocess_planet_train_data(make_config(collection, tmp_path, dask_threads=1), progress=False)
    assert result.n_processed == N_SCENES
    other = read_set(tmp_path)
    ignored = ("train_data_dir", "dask_threads")
    ref_config, new_config = (tomllib.loads(s.pop("config"))["darts"] for s in (reference, other))
    assert (ref_config["dask_threads"], new_config["dask_threads"]) == (2, 1)
    for key in ignored:
        del ref_config[key], new_config[key]
    assert new_config == ref_config
    assert_same_set(other, reference)


def test_unreachable_dask_scheduler_is_a_clear_error(collection: SyntheticCollection, tmp_path: Path) -> None:
    import dask

    config = make_config(collection, tmp_path / "train", bands=("red",), dask_scheduler="tcp://127.0.0.1:1")
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(
            DartsInputError, match=r"dask-scheduler 'tcp://127.0.0.1:1': no dask scheduler reachable"
        ),
    ):
        preprocess_planet_train_data(config, progress=False)
    assert not (tmp_path / "train" / "config.toml").exists()


def test_changed_settings_need_overwrite(
    built: tuple[Path, Any], collection: SyntheticCollection, tmp_path: Path
) -> None:
    out = tmp_path / "train"
    preprocess_planet_train_data(make_config(collection, out, bands=("red", "nir")), progress=False)
    with pytest.raises(DartsInputError, match=r"other settings \(patch_size: 32 -> 48\).*pass --overwrite"):
        preprocess_planet_train_data(
            make_config(collection, out, bands=("red", "nir"), patch_size=48), progress=False
        )
    result = preprocess_planet_train_data(
        make_config(collection, out, bands=("red", "nir"), patch_size=48, overwrite=True), progress=False
    )
    assert zarr.open_group(split_path(out, "cross-val"), mode="r")["x"].shape[1:] == (2, 48, 48)
    assert result.n_patches == tomllib.loads((out / "config.toml").read_text())["darts"]["n_patches"]


def test_overwrite_keeps_the_old_set_on_bad_input_and_resumes(
    built: tuple[Path, Any], collection: SyntheticCollection, tmp_path: Path
) -> None:
    out, cache = tmp_path / "train", tmp_path / "cache"
    small = {"bands": ("red", "nir"), "preprocess_cache": cache}
    preprocess_planet_train_data(make_config(collection, out, **small), progress=False)
    before = read_set(out)
    # a typo in an input folder: the run fails up front and the finished set is untouched
    with pytest.raises(DartsError, match="data-dir"):
        preprocess_planet_train_data(
            make_config(collection, out, **small, data_dir=tmp_path / "typo", overwrite=True), progress=False
        )
    assert_same_set(read_set(out), before)
    # overwrite rebuilds every scene; a killed overwrite run (no config.toml, part of the cache
    # gone) rerun with the same arguments resumes and ends with the same set
    config = make_config(collection, out, **small, overwrite=True)
    assert preprocess_planet_train_data(config, progress=False).n_processed == N_SCENES
    (out / "config.toml").unlink()
    for lost in sorted(p for p in next(cache.glob("patches-*")).iterdir() if p.is_dir())[:2]:
        shutil.rmtree(lost)
    again = preprocess_planet_train_data(config, progress=False)
    assert (again.n_processed, again.n_resumed) == (2, N_SCENES - 2)
    assert_same_set(read_set(out), before)


def test_unknown_band_and_bad_geometry_rejected(collection: SyntheticCollection, tmp_path: Path) -> None:
    with pytest.raises(pydantic.ValidationError, match="unknown band"):
        make_config(collection, tmp_path, bands=("red", "infrared"))
    with pytest.raises(pydantic.ValidationError, match="overlap"):
        make_config(collection, tmp_path, patch_size=32, overlap=32)


def test_unknown_region_fails_before_any_work(collection: SyntheticCollection, tmp_path: Path) -> None:
    config = make_config(collection, tmp_path / "train", test_regions=["Taymyrsky District"])
    with pytest.raises(DartsInputError, match="Taymyrsky Dolgano-Nenetsky District"):
        preprocess_planet_train_data(config, progress=False)
    assert not (tmp_path / "train").exists()


def test_missing_aux_folder_is_named(collection: SyntheticCollection, tmp_path: Path) -> None:
    with pytest.raises(DartsInputError, match="arcticdem-dir"):
        preprocess_planet_train_data(make_config(collection, tmp_path, arcticdem_dir=None), progress=False)
    missing = tmp_path / "no-labels"
    with pytest.raises(DartsError, match=f"labels-dir {missing} does not exist"):
        preprocess_planet_train_data(make_config(collection, tmp_path, labels_dir=missing), progress=False)


def test_labels_matching_no_scene(
    collection: SyntheticCollection, tmp_path: Path, rts_labels_dir: Path
) -> None:
    only_banks = tmp_path / "labels"
    shutil.copytree(rts_labels_dir / "TrainingLabel_RTS_PlanetScope_Nitze_iteration004", only_banks / "it4")
    data = tmp_path / "data"
    shutil.copytree(collection.data_dir / "20200722_081437_1032", data / "20200722_081437_1032")
    config = make_config(
        collection, tmp_path / "train", labels_dir=only_banks, data_dir=data, test_regions=[]
    )
    with pytest.raises(DartsInputError, match="none of the 1 scene"):
        preprocess_planet_train_data(config, progress=False)
    # the scene threads had started loading before the labels were matched: all of them ended
    assert not [t.name for t in threading.enumerate() if t.name.startswith("darts-scene")]


def test_bad_scenes_are_skipped_with_reasons(collection: SyntheticCollection, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(collection.data_dir, data)
    no_sr = data / "20200722_081437_1032"
    next(no_sr.glob("*_SR.tif")).unlink()
    bad_udm = next(data.rglob("4713120_5272315_2021-07-21_2463/*_udm2_clip.tif"))
    other = next(data.rglob("4770635_4572716_2021-08-06_2416/*_udm2_clip.tif"))
    _write_cropped(other, bad_udm)
    result = preprocess_planet_train_data(
        make_config(collection, tmp_path / "train", data_dir=data), progress=False
    )
    reasons = dict(result.skipped)
    assert "surface-reflectance" in reasons[str(no_sr)]
    assert (
        "udm2" in reasons["4713120_5272315_2021-07-21_2463"]
        and "expected the grid" in reasons["4713120_5272315_2021-07-21_2463"]
    )
    assert len(result.scene_reports) == N_SCENES - 2
    # the labels of the scene that failed are reported as unused, never dropped silently
    assert any(
        "label(s) of skipped scene 4713120_5272315_2021-07-21_2463 not used" in note
        for note in result.label_notes
    )


def test_all_scenes_failing_is_an_error(collection: SyntheticCollection, tmp_path: Path) -> None:
    config = make_config(collection, tmp_path / "train", tcvis_dir=tmp_path / "empty-tcvis", ee_project=None)
    (tmp_path / "empty-tcvis").mkdir()
    with pytest.raises(DartsError, match="no scene could be processed"):
        preprocess_planet_train_data(config.model_copy(update={"bands": ("tc_wetness",)}), progress=False)


def _write_cropped(source: Path, target: Path) -> None:
    """Overwrite ``target`` with ``source`` cropped by 5 px (a udm2 of another size)."""
    import rasterio
    from rasterio.windows import Window

    with rasterio.open(source) as src:
        data = src.read(window=Window(0, 0, src.width - 5, src.height - 5))
        profile = src.profile | {"width": src.width - 5, "height": src.height - 5}
    target.unlink()
    with rasterio.open(target, "w", **profile) as dst:
        dst.write(data)


def test_rerun_on_a_complete_set_does_no_work(
    collection: SyntheticCollection, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "complete"
    first = preprocess_planet_train_data(make_config(collection, out, bands=("red", "nir")), progress=False)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    caplog.set_level("INFO", logger="darts_preprocess")
    again = preprocess_planet_train_data(make_config(collection, out, bands=("red", "nir")), progress=False)
    assert f"training set {out} is complete with these settings: nothing to do" in caplog.text
    assert again.n_processed == 0 and again.n_resumed == 0
    assert again.n_patches == first.n_patches and again.removed == first.removed
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before  # not a file rewritten
