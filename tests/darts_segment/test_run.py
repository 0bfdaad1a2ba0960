"""The run over many scenes: one model load shared by the scene threads, dask workers alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio

from darts_preprocess.synthetic.collections import SyntheticCollection
from darts_segment import SegmentPlanetConfig, segment_planet_scenes
from darts_segment import run as run_module
from darts_segment.models import ModelChoice, worker_models


def _config(
    collection: SyntheticCollection, model_file: Path, out: Path, **options: Any
) -> SegmentPlanetConfig:
    return SegmentPlanetConfig(
        data_dir=collection.data_dir,
        arcticdem_dir=collection.arcticdem_dir,
        model_file=(model_file,),
        output_dir=out,
        device="cpu",
        offline=True,
        **options,
    )


def _maps(out: Path) -> dict[str, np.ndarray]:
    maps = {}
    for path in sorted(out.glob("*/probabilities.tif")):
        with rasterio.open(path) as src:
            maps[path.parent.name] = src.read(1)
    return maps


@pytest.fixture(scope="module")
def threaded(
    collection: SyntheticCollection, model_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("threaded")
    calls = []
    original = run_module.load_models

    def counting(choice: ModelChoice) -> Any:
        calls.append(choice)
        return original(choice)

    run_module.load_models = counting  # type: ignore[assignment]
    try:
        result = segment_planet_scenes(_config(collection, model_file, out, dask_threads=2), progress=False)
    finally:
        run_module.load_models = original  # type: ignore[assignment]
    assert [s.status for s in result.scenes] == ["done", "done"]
    assert len(calls) == 1  # one load for both scenes (threads share it)
    return out


def test_threads_share_one_model_load(threaded: Path) -> None:
    maps = _maps(threaded)
    assert len(maps) == 2 and all((m != 255).any() for m in maps.values())


def test_a_worker_loads_its_models_once(model_file: Path) -> None:
    worker_models.cache_clear()
    choice = ModelChoice((model_file,), device="cpu")
    first = worker_models(choice)
    assert worker_models(ModelChoice((model_file,), device="cpu")) is first
    assert worker_models.cache_info().misses == 1


@pytest.mark.slow
def test_dask_workers_give_the_same_maps(
    collection: SyntheticCollection, model_file: Path, threaded: Path, tmp_path: Path
) -> None:
    out = tmp_path / "dask"
    result = segment_planet_scenes(_config(collection, model_file, out, dask_worker=2), progress=False)
    assert [s.status for s in result.scenes] == ["done", "done"]
    dask_maps, thread_maps = _maps(out), _maps(threaded)
    assert sorted(dask_maps) == sorted(thread_maps)
    for scene_id, values in dask_maps.items():
        np.testing.assert_array_equal(values, thread_maps[scene_id])
