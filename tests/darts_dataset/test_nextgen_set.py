"""darts-nextgen training sets (data.zarr + metadata.parquet): layout, values, split rule, validation."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import tomli_w
import zarr

from darts_core.bands import normalize_bands
from darts_core.errors import DartsInputError, TrainingSetError
from darts_dataset import DataModuleConfig, PatchDataset, TrainingSet, make_folds, validate_train_data
from darts_dataset.nextgen_options import NextgenSetOptions
from darts_dataset.nextgen_splits import scene_splits
from darts_dataset.training_set import Layout
from darts_test_support.nextgen_sets import NEXTGEN_SCENES, NextgenSet, write_nextgen_set

SPLITS = ("cross-val", "val-test", "test")


@pytest.fixture(scope="module")
def nextgen(tmp_path_factory: pytest.TempPathFactory) -> NextgenSet:
    return write_nextgen_set(tmp_path_factory.mktemp("nextgen") / "train")


def test_written_set_has_the_darts_nextgen_format(nextgen: NextgenSet) -> None:
    x = zarr.open_array(nextgen.path / "data.zarr" / "x", mode="r")
    assert x.metadata.zarr_format == 3 and x.chunks == (1, 1, 16, 16) and x.dtype == np.float32
    (blosc,) = x.compressors
    assert blosc.cname.value == "lz4"
    schema = pq.read_schema(nextgen.path / "metadata.parquet")
    assert b"geo" in schema.metadata
    assert {"z_idx", "patch_id", "region", "sample_id", "empty", "x", "y", "geometry"} <= set(schema.names)


def test_values_read_in_darts_normalisation_and_rows_follow_the_split(nextgen: NextgenSet) -> None:
    ts = TrainingSet(nextgen.path)
    assert ts.layout is Layout.NEXTGEN and ts.bands == nextgen.bands
    assert ts.norm_factors == {
        "blue": 1 / 3000,
        "green": 1 / 3000,
        "red": 1 / 3000,
        "nir": 1 / 3000,
        "ndvi": 1 / 20000,
    }
    assert sum(ts.n_patches(s) for s in SPLITS) == len(nextgen.y)
    for split in SPLITS:
        ds = PatchDataset(nextgen.path, split, bands=("nir", "ndvi"))
        for k in range(len(ds)):
            row = int(ds.rows[k])
            x, y = ds.read(k)
            physical = {b: nextgen.physical[row, nextgen.bands.index(b)] for b in ("nir", "ndvi")}
            np.testing.assert_allclose(x, normalize_bands(physical, ("nir", "ndvi")), atol=2e-6)
            np.testing.assert_array_equal(y, nextgen.y[row])
            assert ts.split_metadata(split).scene_ids[k] == nextgen.scene_ids[row]


def test_split_rule_is_scene_grouped_deterministic_and_seeded(nextgen: NextgenSet) -> None:
    options = NextgenSetOptions(
        nextgen_test_fraction=0.3, nextgen_val_test_fraction=0.3, nextgen_split_seed=7
    )
    first = scene_splits(nextgen.scene_ids, nextgen.regions, options)
    assert first == scene_splits(nextgen.scene_ids, nextgen.regions, options)
    assert set(first.values()) == set(SPLITS)
    ts = TrainingSet(nextgen.path, options)
    scenes = {s: set(ts.split_metadata(s).scene_ids.tolist()) for s in SPLITS}
    assert not (scenes["test"] & scenes["val-test"]) and not (
        scenes["cross-val"] & (scenes["test"] | scenes["val-test"])
    )
    assert {s: sp for s, sp in first.items()} == {s: sp for sp in SPLITS for s in scenes[sp]}
    others = [
        scene_splits(nextgen.scene_ids, nextgen.regions, options.model_copy(update={"nextgen_split_seed": k}))
        for k in range(5)
    ]
    assert any(o != first for o in others)
    # a scene added to the set never moves the others
    grown = scene_splits(
        np.append(nextgen.scene_ids, "new_scene"), np.append(nextgen.regions, "Alaska"), options
    )
    assert {s: grown[s] for s in first} == first


def test_test_regions_take_exactly_their_scenes(nextgen: NextgenSet) -> None:
    options = NextgenSetOptions(nextgen_test_regions=("Yukon", "Taymyr"), nextgen_val_test_fraction=0.2)
    splits = scene_splits(nextgen.scene_ids, nextgen.regions, options)
    expected = {s for s, r, _ in NEXTGEN_SCENES if r in ("Yukon", "Taymyr")}
    assert {s for s, sp in splits.items() if sp == "test"} == expected
    assert "val-test" in splits.values()
    with pytest.raises(DartsInputError, match=r"'Yukn'.*Banks Island"):
        scene_splits(nextgen.scene_ids, nextgen.regions, NextgenSetOptions(nextgen_test_regions=("Yukn",)))


def test_folds_never_split_a_scene(nextgen: NextgenSet) -> None:
    metadata = TrainingSet(nextgen.path).split_metadata("cross-val")
    folds = make_folds(metadata, 3, seed=1)
    for scene in set(metadata.scene_ids.tolist()):
        assert len(set(folds[metadata.scene_ids == scene].tolist())) == 1
    np.testing.assert_array_equal(folds, make_folds(metadata, 3, seed=1))


def test_datamodule_takes_the_split_options(nextgen: NextgenSet) -> None:
    from darts_dataset import DartsDataModule

    dm = DartsDataModule(
        DataModuleConfig(
            train_data_dir=nextgen.path, n_folds=2, nextgen_test_regions=("Alaska",), batch_size=4
        )
    )
    assert set(dm.training_set.split_metadata("test").regions.tolist()) == {"Alaska"}
    dm.setup("fit")
    assert len(dm.train_dataset) + len(dm.val_dataset) == dm.training_set.n_patches("cross-val")
    batch = next(iter(dm.train_dataloader()))
    assert batch["x"].shape[1:] == (5, 16, 16) and float(batch["x"].max()) <= 1.0


def test_old_sets_with_band_factors_are_converted(tmp_path: Path, nextgen: NextgenSet) -> None:
    """Sets of early darts-nextgen stored encoded * factor + offset, with the factors in config.toml."""
    import tomllib

    path = tmp_path / "old"
    shutil.copytree(nextgen.path, path)
    x = zarr.open_array(path / "data.zarr" / "x", mode="r+")
    factors, offsets = [1 / 6000] * 4 + [1 / 40000], [0.1] * 4 + [0.0]
    encoded = nextgen.physical.copy()
    encoded[:, 4] = (encoded[:, 4] + 1) * 1e4  # ndvi as (ndvi + 1) * 1e4, as darts encodes it
    x[:] = np.clip(
        encoded * np.array(factors)[None, :, None, None] + np.array(offsets)[None, :, None, None], 0, 1
    )
    config = tomllib.loads((path / "config.toml").read_text())
    config["darts"].update(band_factors=factors, band_offsets=offsets)
    (path / "config.toml").write_text(tomli_w.dumps(config))
    ds = PatchDataset(path, "cross-val")
    row = int(ds.rows[0])
    expected = normalize_bands(
        {b: nextgen.physical[row, i] for i, b in enumerate(nextgen.bands)}, nextgen.bands
    )
    np.testing.assert_allclose(ds.read(0)[0], expected, atol=2e-6)


def test_validate_passes_and_counts_the_derived_splits(nextgen: NextgenSet) -> None:
    report = validate_train_data(
        nextgen.path, n_folds=2, options=NextgenSetOptions(nextgen_test_regions=("Yukon",))
    )
    assert report.ok, report.violations
    counts = {c.name: c for c in report.splits}
    assert counts["test"].n_regions == 1 and counts["test"].n_patches == 5
    assert sum(c.n_patches for c in report.splits) == len(nextgen.y)
    assert sum(c.n_positive_patches for c in report.splits) == int((nextgen.y == 1).any(axis=(1, 2)).sum())
    assert [c.name for c in report.folds] == ["fold 0", "fold 1"]


def test_validate_finds_a_table_that_contradicts_the_labels(tmp_path: Path, nextgen: NextgenSet) -> None:
    path = tmp_path / "broken"
    shutil.copytree(nextgen.path, path)
    table = pq.read_table(path / "metadata.parquet")
    flipped = table.set_column(table.schema.get_field_index("empty"), "empty", [[True] * table.num_rows])
    pq.write_table(flipped, path / "metadata.parquet")
    report = validate_train_data(path, n_folds=2)
    assert any("'empty' contradicts the labels" in v for v in report.violations), report.violations


def test_table_not_numbering_the_patches_is_an_error(tmp_path: Path, nextgen: NextgenSet) -> None:
    path = tmp_path / "short"
    shutil.copytree(nextgen.path, path)
    table = pq.read_table(path / "metadata.parquet")
    pq.write_table(table.slice(0, table.num_rows - 1), path / "metadata.parquet")
    with pytest.raises(TrainingSetError, match=r"z_idx must number the 20 patches"):
        TrainingSet(path)


def test_unknown_layout_lists_the_layouts_darts_reads(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(tomli_w.dumps({"darts": {"bands": ["red"]}}))
    (tmp_path / "patches.h5").write_bytes(b"")
    message = (
        r"not a training set in a layout darts reads.*cross-val\.zarr.*"
        r"data\.zarr \+ metadata\.parquet.*patches\.h5"
    )
    with pytest.raises(TrainingSetError, match=message):
        TrainingSet(tmp_path)
    report = validate_train_data(tmp_path)
    assert not report.ok and "layout darts reads" in report.violations[0]
