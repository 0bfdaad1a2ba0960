"""Helper threads of a scene: a per-thread limit, shared fairly, that never changes a result."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from darts_preprocess.engineering.derived_bands import tpi
from darts_preprocess.jobs.helper_threads import (
    DEFAULT_HELPER_THREADS,
    helper_threads,
    helper_threads_for,
    limit_helper_threads,
)
from darts_preprocess.sources import discover_planet_scenes, load_arcticdem, load_planet_scene, load_tcvis


def test_limit_is_per_thread_and_restored() -> None:
    seen: list[int] = []
    with limit_helper_threads(1):
        assert helper_threads() == 1
        other = threading.Thread(target=lambda: seen.append(helper_threads()))
        other.start()
        other.join()
        with limit_helper_threads(3):
            assert helper_threads() == 3
        assert helper_threads() == 1
        with limit_helper_threads(None):  # None keeps the current limit
            assert helper_threads() == 1
    assert seen == [DEFAULT_HELPER_THREADS]  # another thread keeps the default
    assert helper_threads() == DEFAULT_HELPER_THREADS


def test_helpers_share_the_cpus() -> None:
    cpus = os.cpu_count() or 1
    assert helper_threads_for(1) == min(4, cpus)
    assert helper_threads_for(cpus) == 1
    assert helper_threads_for(10 * cpus) == 1
    assert helper_threads_for(0) == min(4, cpus)


def test_tpi_does_not_depend_on_helper_threads() -> None:
    rng = np.random.default_rng(5)
    dem = np.cumsum(rng.normal(size=(180, 170)), axis=0).astype(np.float32) + 200
    dem[5:9, 40:44] = np.nan  # the path with a second convolution for the valid counts
    with limit_helper_threads(1):
        one = tpi(dem, 3.0, 3.0, 60.0, 9.0)
    with limit_helper_threads(4):
        four = tpi(dem, 3.0, 3.0, 60.0, 9.0)
    np.testing.assert_array_equal(one, four)


@pytest.mark.parametrize("layer", ["arcticdem", "tcvis"])
def test_warps_do_not_depend_on_helper_threads(synthetic_planet, layer: str) -> None:
    scene = load_planet_scene(discover_planet_scenes(synthetic_planet.data_dir).scenes[0])
    grid = scene.odc.geobox

    def load() -> np.ndarray:
        if layer == "arcticdem":
            return load_arcticdem(grid, synthetic_planet.arcticdem_dir, 100.0, remote=None).values
        return load_tcvis(grid, synthetic_planet.tcvis_dir, remote=None).to_array().values

    with limit_helper_threads(1):
        one = load()
    with limit_helper_threads(4):
        four = load()
    assert np.isfinite(one).mean() > 0.9
    np.testing.assert_array_equal(one, four)
