"""In-process scene threads: scenes load before their jobs exist and end exactly like scene jobs."""

from __future__ import annotations

import shutil
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr

from darts_preprocess.config import PlanetPreprocessConfig
from darts_preprocess.jobs.run_jobs import build_jobs
from darts_preprocess.jobs.scene_cache import PATCH_STORE, SceneCache
from darts_preprocess.jobs.scene_job import SceneJob, run_scene_job
from darts_preprocess.jobs.scene_threads import SceneThreads
from darts_preprocess.labels.collection import load_label_collection, match_scenes
from darts_preprocess.scenes.sensors import PLANET
from darts_preprocess.sources import discover_planet_scenes
from darts_preprocess.stage_settings import scene_settings
from darts_preprocess.synthetic.collections import SyntheticCollection


def _jobs(collection: SyntheticCollection, data_dir: Path, cache_root: Path) -> list[SceneJob]:
    config = PlanetPreprocessConfig(
        data_dir=data_dir,
        labels_dir=collection.labels_dir,
        train_data_dir=cache_root / "unused",
        arcticdem_dir=collection.arcticdem_dir,
        tcvis_dir=collection.tcvis_dir,
        bands=("red", "nir", "ndvi", "relative_elevation", "tc_brightness"),
        patch_size=32,
        overlap=4,
        mask_erosion_size=2,
    )
    refs = discover_planet_scenes(data_dir).scenes
    matching = match_scenes(load_label_collection(collection.labels_dir), [r.scene_id for r in refs])
    cache = SceneCache(cache_root, {"test": "scene threads"})
    cache.prepare()
    jobs, resumed = build_jobs(refs, matching, scene_settings(config, PLANET), cache, 1)
    assert not resumed
    return jobs


def _cached(job: SceneJob) -> dict[str, Any]:
    cache = SceneCache(job.cache_root, job.cache_settings)
    group = zarr.open_group(cache.scene_dir(job.scene_id) / PATCH_STORE, mode="r")
    return {
        "outcome": cache.read_outcome(job.scene_id),
        "x": np.asarray(group["x"][:]),
        "y": np.asarray(group["y"][:]),
        **cache.read_meta(job.scene_id),
    }


def _scene_threads_alive() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("darts-scene")]


def test_started_scenes_end_like_scene_jobs(synthetic_planet: SyntheticCollection, tmp_path: Path) -> None:
    jobs = _jobs(synthetic_planet, synthetic_planet.data_dir, tmp_path / "threads")
    alone = [replace(j, cache_root=tmp_path / "alone") for j in jobs]
    SceneCache(alone[0].cache_root, alone[0].cache_settings).prepare()
    wanted, dropped = jobs[:-2], jobs[-2:]
    with SceneThreads(2, jobs[0].settings, 1) as threads:
        threads.start(job.ref for job in jobs)  # every scene starts loading before any job exists
        outcomes = {o.scene_id: o for o in threads.run(wanted)}
    assert sorted(outcomes) == sorted(j.scene_id for j in wanted)
    assert all(o.status == "done" and o.n_patches > 0 for o in outcomes.values())
    cache = SceneCache(jobs[0].cache_root, jobs[0].cache_settings)
    assert not [j.scene_id for j in dropped if cache.has(j.scene_id)]  # loaded, never written
    for job, reference_job in zip(wanted, alone, strict=False):
        reference = run_scene_job(reference_job)
        assert {**outcomes[job.scene_id].to_dict(), "seconds": 0} == {**reference.to_dict(), "seconds": 0}
        ours, theirs = _cached(job), _cached(reference_job)
        assert ours.keys() == theirs.keys()
        for key in ours:
            np.testing.assert_array_equal(ours[key], theirs[key], err_msg=key)
    assert not _scene_threads_alive()


def test_jobs_of_scenes_not_started_run_too(synthetic_planet: SyntheticCollection, tmp_path: Path) -> None:
    jobs = _jobs(synthetic_planet, synthetic_planet.data_dir, tmp_path)
    with SceneThreads(1, jobs[0].settings, 1) as threads:
        threads.start([jobs[0].ref])
        done = sorted(o.scene_id for o in threads.run(jobs[:3]))
    assert done == sorted(j.scene_id for j in jobs[:3])


def test_closing_before_any_job_ends_every_thread(
    synthetic_planet: SyntheticCollection, tmp_path: Path
) -> None:
    jobs = _jobs(synthetic_planet, synthetic_planet.data_dir, tmp_path)
    threads = SceneThreads(2, jobs[0].settings, 1)
    threads.start(job.ref for job in jobs)
    threads.close()  # e.g. the label files turned out unusable
    assert not _scene_threads_alive()
    folder = SceneCache(jobs[0].cache_root, jobs[0].cache_settings).folder
    assert [p.name for p in folder.iterdir()] == ["settings.json"]


def test_a_load_error_skips_the_scene_with_the_scene_job_reason(
    synthetic_planet: SyntheticCollection, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(synthetic_planet.data_dir, data)
    udm2 = sorted(data.rglob("*udm2*.tif"))[0]
    broken = udm2.parent
    udm2.unlink()
    udm2.write_bytes(b"not a tiff")
    jobs = _jobs(synthetic_planet, data, tmp_path / "cache")
    bad = next(j for j in jobs if j.scene_id == broken.name)
    with SceneThreads(2, jobs[0].settings, 1) as threads:
        threads.start(job.ref for job in jobs)
        outcomes = {o.scene_id: o for o in threads.run(jobs)}
    assert outcomes[bad.scene_id].status == "skipped"
    assert outcomes[bad.scene_id].reason == run_scene_job(replace(bad, cache_root=tmp_path / "x")).reason
    assert str(udm2) in outcomes[bad.scene_id].reason
    assert sum(o.status == "done" for o in outcomes.values()) == len(jobs) - 1


def test_jobs_with_other_settings_are_refused(synthetic_planet: SyntheticCollection, tmp_path: Path) -> None:
    jobs = _jobs(synthetic_planet, synthetic_planet.data_dir, tmp_path)
    other = replace(jobs[0].settings, patch_size=64)
    with SceneThreads(1, other, 1) as threads, pytest.raises(ValueError, match="other settings"):
        list(threads.run(jobs))
