"""TrainingSet: config, bands, norm factors and per-sample metadata, for darts and reference sets."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from darts_core.bands import norm_factors
from darts_core.errors import DartsFileNotFoundError, TrainingSetError
from darts_dataset import SplitMetadata, TrainingSet


def test_config_bands_and_factors(tiny_set):
    ts = TrainingSet(tiny_set.path)
    assert ts.bands == tiny_set.bands
    assert ts.norm_factors == pytest.approx(norm_factors(tiny_set.bands))
    assert ts.patch_size == 16
    assert ts.config["n_patches"]["cross-val"] == len(tiny_set.x["cross-val"])
    assert ts.n_patches("test") == 3


def test_split_metadata_matches_what_was_written(tiny_set):
    meta = TrainingSet(tiny_set.path).split_metadata("cross-val")
    assert isinstance(meta, SplitMetadata)
    assert meta.has_metadata and meta.n == len(tiny_set.x["cross-val"])
    np.testing.assert_array_equal(meta.scene_ids, tiny_set.scene_ids["cross-val"])
    assert meta.n_scenes == 8 and meta.n_regions == 3
    assert set(meta.regions[meta.scene_ids == "s03"]) == {"Yukon"}
    y = tiny_set.y["cross-val"]
    expected = (y == 1).sum(axis=(1, 2)) / np.maximum((y != 2).sum(axis=(1, 2)), 1)
    np.testing.assert_allclose(meta.positive_fraction, expected, rtol=1e-6)
    np.testing.assert_array_equal(meta.patch_row[:3], [0, 16, 32])
    assert meta.geotransform.shape == (meta.n, 6)
    assert set(meta.crs) == {"EPSG:32633"}


def test_reference_set_loads_without_metadata_or_factors(reference_set, caplog):
    ts = TrainingSet(reference_set.path)
    assert ts.bands == ("blue", "green", "red", "nir")
    assert ts.patch_size == 16  # "patch-size" read like "patch_size"
    with caplog.at_level(logging.WARNING):
        factors = ts.norm_factors
    assert factors == pytest.approx({b: 1 / 3000 for b in ts.bands})
    assert "no norm_factors" in caplog.text
    meta = ts.split_metadata("cross-val")
    assert not meta.has_metadata and meta.n == 10
    assert meta.scene_ids is None and meta.n_scenes is None


def test_missing_folder_config_and_table(tmp_path):
    with pytest.raises(DartsFileNotFoundError, match="does not exist"):
        TrainingSet(tmp_path / "nope")
    with pytest.raises(DartsFileNotFoundError, match=r"config\.toml"):
        TrainingSet(tmp_path)
    (tmp_path / "config.toml").write_text("[other]\na = 1\n")
    with pytest.raises(TrainingSetError, match=r"no \[darts\] table"):
        TrainingSet(tmp_path)
    (tmp_path / "config.toml").write_text("[darts\n")
    with pytest.raises(TrainingSetError, match="not valid TOML"):
        TrainingSet(tmp_path)


def test_missing_split_is_a_clear_error(broken_copy):
    import shutil

    tiny = broken_copy()
    shutil.rmtree(tiny.path / "test.zarr")
    ts = TrainingSet(tiny.path)
    assert not ts.has_split("test")
    with pytest.raises(DartsFileNotFoundError, match=r"test\.zarr"):
        ts.split_metadata("test")
