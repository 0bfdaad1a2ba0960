"""validate_train_data: counts on a good set, one violation per kind of damage."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import zarr

from darts_core.bands import norm_factors
from darts_core.trainset_layout import write_training_set_config
from darts_dataset import validate_train_data


def _x_chunk(split: Path, i: int) -> Path:
    """The chunk file of patch ``i`` of a split's x (named by the array's own chunk-key encoding)."""
    x = zarr.open_array(split / "x", mode="r")
    return split / "x" / x.metadata.encode_chunk_key((i, 0, 0, 0))


def test_good_set_counts(tiny_set):
    report = validate_train_data(tiny_set.path, n_folds=3, seed=0)
    assert report.ok, report.violations
    counts = {c.name: c for c in report.splits}
    assert list(counts) == ["cross-val", "val-test", "test"]
    cv = counts["cross-val"]
    assert (cv.n_patches, cv.n_scenes, cv.n_regions) == (20, 8, 3)
    assert cv.n_positive_patches == int((tiny_set.y["cross-val"] == 1).any(axis=(1, 2)).sum())
    assert (counts["test"].n_patches, counts["test"].n_scenes) == (3, 1)  # t02 has no patches
    assert len(report.folds) == 3
    assert sum(f.n_patches for f in report.folds) == 20
    assert sum(f.n_scenes for f in report.folds) == 8  # no scene in two folds
    assert all(f.n_positive_patches > 0 for f in report.folds)


def test_reference_set_is_valid_with_warnings(reference_set):
    report = validate_train_data(reference_set.path, n_folds=2)
    assert report.ok, report.violations
    assert any("no per-sample metadata" in w for w in report.warnings)
    assert any("contiguous blocks" in w for w in report.warnings)
    assert any("norm_factors" in w for w in report.warnings)
    assert report.splits[0].n_scenes is None and report.splits[0].n_patches == 10


def _nan_in_x(path):
    zarr.open_group(path / "val-test.zarr", mode="r+")["x"][1, 2, 3, 4] = np.nan


def _inf_in_x(path):
    zarr.open_group(path / "cross-val.zarr", mode="r+")["x"][7, 0, 0, 0] = np.inf


def _bad_label(path):
    y = zarr.open_group(path / "cross-val.zarr", mode="r+")["y"]
    patch = y[2]
    patch[0, 0] = 5
    y[2] = patch


def _missing_group(path):
    shutil.rmtree(path / "test.zarr")


def _mismatched_n(path):
    y = zarr.open_group(path / "cross-val.zarr", mode="r+")["y"]
    y.resize((y.shape[0] - 1, *y.shape[1:]))


def _missing_chunk(path):
    _x_chunk(path / "cross-val.zarr", 4).unlink()


def _truncated_chunk(path):
    chunk = _x_chunk(path / "val-test.zarr", 0)
    chunk.write_bytes(chunk.read_bytes()[:100])


def _band_count(path):
    bands = ["blue", "green", "red", "nir", "ndvi"]
    write_training_set_config(path, {"bands": bands, "norm_factors": norm_factors(bands), "patch_size": 16})


def _n_patches_in_config(path):
    bands = ["blue", "green", "red", "nir", "ndvi", "slope"]
    settings = {
        "bands": bands,
        "norm_factors": norm_factors(bands),
        "patch_size": 16,
        "n_patches": {"test": 9},
    }
    write_training_set_config(path, settings)


def _empty_split(path):
    x = zarr.open_group(path / "test.zarr", mode="r+")
    x["x"].resize((0, 6, 16, 16))
    x["y"].resize((0, 16, 16))


def _missing_config(path):
    (path / "config.toml").unlink()


def _short_metadata(path):
    zarr.open_group(path / "cross-val.zarr", mode="r+")["positive_fraction"].resize((5,))


def _missing_y(path):
    shutil.rmtree(path / "val-test.zarr" / "y")


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (_nan_in_x, "val-test: NaN or Inf in x of 1 patch(es) (e.g. index 1)"),
        (_inf_in_x, "cross-val: NaN or Inf in x of 1 patch(es) (e.g. index 7)"),
        (_bad_label, "cross-val: y has label value(s) [5] outside {0, 1, 2} in 1 patch(es) (e.g. index 2)"),
        (_missing_group, "test: missing group test.zarr"),
        (_mismatched_n, "split 'cross-val': x has shape (20, 6, 16, 16) but y has (19, 16, 16)"),
        (
            _missing_chunk,
            "cross-val: x chunk file missing for 1 patch(es) (e.g. index 4); the array is truncated",
        ),
        (_truncated_chunk, "val-test: unreadable chunk, patch 0"),
        (_band_count, "cross-val: x has 6 channels but config.toml lists 5 bands"),
        (_n_patches_in_config, "test: config.toml n_patches.test=9 but x holds 3 patches"),
        (_empty_split, "test: the split is empty (0 patches)"),
        (_missing_config, "config.toml not found"),
        (_missing_y, "lacks array(s) ['y']"),
        (
            _short_metadata,
            "split 'cross-val': metadata array lengths {'positive_fraction': 5} differ from n=20",
        ),
    ],
)
def test_damage_is_reported(broken_copy, damage, expected):
    tiny = broken_copy()
    damage(tiny.path)
    report = validate_train_data(tiny.path, n_folds=3)
    assert not report.ok
    assert any(expected in v for v in report.violations), report.violations


def test_too_many_folds_is_a_violation(tiny_set):
    report = validate_train_data(tiny_set.path, n_folds=9)
    assert any("n_folds=9 exceeds the 8 scene groups" in v for v in report.violations)


def test_not_a_folder(tmp_path):
    report = validate_train_data(tmp_path / "nope")
    assert not report.ok and "is not a folder" in report.violations[0]


def test_folds_without_positive_patches_are_named_in_a_warning(tmp_path):
    """One labelled scene among five: four of five folds validate without RTS, and the report says so."""
    from darts_test_support.trainsets import DATASET_SCENES, Scene, write_tiny_set

    scenes = {
        "cross-val": [Scene("p1", "Alaska", 3, True)] + [Scene(f"n{i}", "Yukon", 2, False) for i in range(4)],
        "val-test": DATASET_SCENES["val-test"],
        "test": DATASET_SCENES["test"],
    }
    tiny = write_tiny_set(tmp_path / "sparse", scenes=scenes)
    report = validate_train_data(tiny.path, n_folds=5, seed=42)
    assert report.ok, report.violations
    empty = [k for k, fold in enumerate(report.folds) if fold.n_positive_patches == 0]
    assert len(empty) == 4
    warning = next(w for w in report.warnings if w.startswith("cross-val: fold(s)"))
    assert f"fold(s) {', '.join(map(str, empty))} of 5 (seed 42) hold no positive patch" in warning
    assert "only 1 scene group(s) hold RTS, fewer than the 5 folds" in warning


def test_a_set_with_a_positive_scene_per_fold_has_no_fold_warning(tiny_set):
    report = validate_train_data(tiny_set.path, n_folds=4, seed=7)
    assert all(f.n_positive_patches > 0 for f in report.folds)
    assert not [w for w in report.warnings if "no positive patch" in w]
