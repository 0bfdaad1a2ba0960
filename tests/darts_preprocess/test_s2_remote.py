"""preprocess-s2-train-data filling sentinel2-dir from a remote archive (Earth Engine's place).

Earth Engine is unreachable here, so an in-test archive stands at that boundary only: it answers
``search`` from real sample folders (made by the synthetic generator) and ``fetch_scene`` copies
their real GeoTIFFs into sentinel2-dir in the layout Earth Engine fills. Everything after it —
discovery, footprint matching, patching, the written set — is the real pipeline. The last tests use
the real :class:`Sentinel2EarthEngine` offline.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import zarr
from odc.geo.geom import Geometry

from darts_core.errors import DartsInputError
from darts_core.trainset_layout import split_path
from darts_preprocess.config import S2PreprocessConfig
from darts_preprocess.pipeline import preprocess_s2_train_data
from darts_preprocess.scenes.s2_remote import SEARCH_RECORD
from darts_preprocess.scenes.sensors import SENSORS, SENTINEL2, scene_extent
from darts_preprocess.sources.errors import RemoteSourceError, SceneFileNotFoundError
from darts_preprocess.sources.sentinel2 import S2SceneRef, discover_s2_scenes
from darts_preprocess.synthetic.collections import SyntheticCollection, generate_s2_collection


class ArchiveSource:
    """Stands where Earth Engine stands: search and fetch over a folder of real sample GeoTIFFs."""

    def __init__(self, archive: Path) -> None:
        self.refs = {r.scene_id: r for r in discover_s2_scenes(archive).scenes}
        self.searches: list[tuple[str, str, float]] = []
        self.fetched: list[tuple[str, Geometry | None]] = []

    def search(self, aoi: Geometry, start_date: str, end_date: str, max_cloud_pct: float = 50.0) -> list[str]:
        self.searches.append((start_date, end_date, max_cloud_pct))
        where = aoi.to_crs("EPSG:4326").geom
        return [
            sid
            for sid, ref in self.refs.items()
            if start_date <= (ref.date or "") < end_date
            and scene_extent(SENSORS[SENTINEL2], ref).intersects(where)
        ]

    def fetch_scene(self, scene_id: str, aoi: Geometry | None, sentinel2_dir: Path | str) -> S2SceneRef:
        self.fetched.append((scene_id, aoi))
        ref = self.refs[scene_id]  # an unknown id fails loudly, like Earth Engine would
        folder = Path(sentinel2_dir) / scene_id
        folder.mkdir(parents=True)  # never asked twice for the same scene
        assert ref.scl_path is not None
        shutil.copy(ref.sr_path, folder / f"{scene_id}_SR.tif")  # no labels: those come from labels-dir
        shutil.copy(ref.scl_path, folder / f"{scene_id}_SCL.tif")
        return next(r for r in discover_s2_scenes(folder.parent).scenes if r.scene_id == scene_id)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> SyntheticCollection:
    """Three real-layout S2 samples on real label sites, and the (messy) label files of those sites."""
    out = tmp_path_factory.mktemp("s2_archive")
    return generate_s2_collection(out, None, n_scenes=3, size_px=48, seed=7)


def _config(archive: SyntheticCollection, tmp_path: Path, **kwargs: Any) -> S2PreprocessConfig:
    settings: dict[str, Any] = {
        "sentinel2_dir": tmp_path / "s2-cache",
        "labels_dir": archive.labels_dir,
        "train_data_dir": tmp_path / "set",
        "bands": ("red", "nir", "ndvi"),
        "patch_size": 16,
        "overlap": 0,
        "exclude_nan": False,
        "mask_erosion_size": 1,
        "test_val_split": 0.0,
        "dask_worker": 1,
    }
    return S2PreprocessConfig(**(settings | kwargs))


def _set_scenes(out: Path) -> list[str]:
    group = zarr.open_group(split_path(out, "cross-val"), mode="r")
    scenes = [s["id"] for s in group.attrs["scenes"]]
    assert len(set(group["scene_index"][:])) == len(scenes)  # every listed scene has patches
    return sorted(scenes)


def test_named_ids_are_fetched_once_and_reused(archive: SyntheticCollection, tmp_path: Path) -> None:
    ids = sorted(archive.scene_ids)
    config = _config(archive, tmp_path, s2_scene_ids=f"{ids[0]}, {ids[1]}")
    # a sample the user already has is reused, never downloaded
    shutil.copytree(archive.data_dir / ids[0], config.sentinel2_dir / ids[0])
    source = ArchiveSource(archive.data_dir)
    result = preprocess_s2_train_data(config, progress=False, s2_source=source)
    assert [sid for sid, _ in source.fetched] == [ids[1]]
    assert source.fetched[0][1] is None  # no footprint search: the whole scene
    assert not source.searches
    assert sorted(result.scenes["cross-val"]) == ids[:2] == _set_scenes(config.train_data_dir)
    y = zarr.open_group(split_path(config.train_data_dir, "cross-val"), mode="r")["y"][:]
    assert (y == 1).any()  # the fetched scene found its labels through labels-dir footprints

    again = ArchiveSource(archive.data_dir)
    rerun = preprocess_s2_train_data(config.model_copy(update={"overwrite": True}), s2_source=again)
    assert again.fetched == [] and again.searches == []
    assert rerun.n_patches == result.n_patches


def test_footprint_search_fetches_overlapping_scenes(archive: SyntheticCollection, tmp_path: Path) -> None:
    search = {"ee_project": "fake-project", "s2_date_window_days": 5, "s2_max_cloud_percent": 20}
    config = _config(archive, tmp_path, **search)
    source = ArchiveSource(archive.data_dir)
    result = preprocess_s2_train_data(config, progress=False, s2_source=source)
    fetched = dict(source.fetched)
    assert sorted(fetched) == sorted(archive.scene_ids) == _set_scenes(config.train_data_dir)
    for sid, aoi in fetched.items():  # fetched over the footprints that found the scene
        assert aoi is not None and aoi.to_crs("EPSG:4326").geom.intersects(
            scene_extent(SENSORS[SENTINEL2], source.refs[sid])
        )
    for start, end, cloud in source.searches:
        assert cloud == 20 and (date.fromisoformat(end) - date.fromisoformat(start)).days == 11
    record = json.loads((config.sentinel2_dir / SEARCH_RECORD).read_text())
    assert len(record) == len(source.searches) > len(fetched)  # every footprint searched once
    darts = tomllib.loads((config.train_data_dir / "config.toml").read_text())["darts"]
    assert darts["s2_date_window_days"] == 5 and darts["s2_max_cloud_percent"] == 20
    assert sum(result.n_patches.values()) > 0

    again = ArchiveSource(archive.data_dir)  # the search record and the samples make a rerun local
    preprocess_s2_train_data(config.model_copy(update={"overwrite": True}), progress=False, s2_source=again)
    assert again.fetched == [] and again.searches == []


def test_nothing_local_and_no_remote_names_what_to_set(archive: SyntheticCollection, tmp_path: Path) -> None:
    config = _config(archive, tmp_path)
    with pytest.raises(SceneFileNotFoundError, match=r"sentinel2-dir .*s2-cache.*s2-scene-ids.*ee-project"):
        preprocess_s2_train_data(config, progress=False)
    config.sentinel2_dir.mkdir()
    with pytest.raises(DartsInputError, match=r"no Sentinel-2 scenes found under .*s2-scene-ids.*ee-project"):
        preprocess_s2_train_data(config, progress=False)
    assert not config.train_data_dir.exists() or not (config.train_data_dir / "config.toml").exists()


@pytest.fixture
def offline_ee(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No Earth Engine credentials anywhere (and no network here): the real client must fail."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("EE_CREDENTIALS_PATH", raising=False)


@pytest.mark.usefixtures("offline_ee")
def test_earth_engine_unreachable_is_a_clear_error(archive: SyntheticCollection, tmp_path: Path) -> None:
    sid = sorted(archive.scene_ids)[0]
    config = _config(archive, tmp_path, s2_scene_ids=[sid], ee_project="no-such-project")
    with pytest.raises(RemoteSourceError, match=f"could not fetch Sentinel-2 scene {sid} into sentinel2-dir"):
        preprocess_s2_train_data(config, progress=False)
    search = _config(archive, tmp_path, ee_project="no-such-project", s2_date_window_days=3)
    with pytest.raises(RemoteSourceError, match=r"searching Sentinel-2 scenes for footprint .*no-such-pr"):
        preprocess_s2_train_data(search, progress=False)
    assert not (config.sentinel2_dir / sid).exists()


def test_up_front_checks_come_before_any_remote_call(archive: SyntheticCollection, tmp_path: Path) -> None:
    source = ArchiveSource(archive.data_dir)
    config = _config(archive, tmp_path, s2_scene_ids=[sorted(archive.scene_ids)[0]], bands=("red", "slope"))
    with pytest.raises(DartsInputError, match="arcticdem-dir"):
        preprocess_s2_train_data(config, progress=False, s2_source=source)
    assert source.fetched == [] and source.searches == []


def test_scene_ids_accept_comma_lists(tmp_path: Path) -> None:
    config = S2PreprocessConfig(
        sentinel2_dir=tmp_path, train_data_dir=tmp_path / "o", s2_scene_ids=["a,b", " c", "a"]
    )
    assert config.s2_scene_ids == ("a", "b", "c")
    with pytest.raises(ValueError, match="s2_max_cloud_percent"):
        S2PreprocessConfig(sentinel2_dir=tmp_path, train_data_dir=tmp_path / "o", s2_max_cloud_percent=120)


def test_offline_never_searches_or_fetches(archive: SyntheticCollection, tmp_path: Path) -> None:
    ids = sorted(archive.scene_ids)
    search = {"ee_project": "fake-project", "s2_date_window_days": 5}
    config = _config(archive, tmp_path, s2_scene_ids=ids[:2], offline=True, **search)
    shutil.copytree(archive.data_dir / ids[0], config.sentinel2_dir / ids[0])
    source = ArchiveSource(archive.data_dir)
    with pytest.raises(SceneFileNotFoundError, match=rf"offline: sentinel2-dir .*s2-cache lacks .*{ids[1]}"):
        preprocess_s2_train_data(config, progress=False, s2_source=source)
    assert source.fetched == [] and source.searches == []
    # with every named scene local, the offline run builds from what is there (no search either)
    local = config.model_copy(update={"s2_scene_ids": (ids[0],)})
    result = preprocess_s2_train_data(local, progress=False, s2_source=source)
    assert source.fetched == [] and source.searches == []
    assert result.scenes["cross-val"] == [ids[0]]
