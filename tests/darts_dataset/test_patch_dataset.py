"""PatchDataset / InMemoryPatchDataset: items, band selection, pickling, DataLoader workers."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
import zarr
from torch.utils.data import DataLoader

from darts_core.errors import TrainingSetError
from darts_dataset import AugmentConfig, BandSelectionError, InMemoryPatchDataset, PatchDataset


def _x_chunk(split: Path, i: int) -> Path:
    """The chunk file of patch ``i`` of a split's x (named by the array's own chunk-key encoding)."""
    x = zarr.open_array(split / "x", mode="r")
    return split / "x" / x.metadata.encode_chunk_key((i, 0, 0, 0))


def test_items_match_written_patches(tiny_set):
    ds = PatchDataset(tiny_set.path, "cross-val")
    assert len(ds) == len(tiny_set.x["cross-val"]) and ds.bands == tiny_set.bands
    for i in (0, 7, len(ds) - 1):
        item = ds[i]
        assert set(item) == {"x", "y", "index"} and item["index"] == i
        assert item["x"].dtype == torch.float32 and item["x"].shape == (6, 16, 16)
        assert item["y"].dtype == torch.int64 and item["y"].shape == (16, 16)
        np.testing.assert_array_equal(item["x"].numpy(), tiny_set.x["cross-val"][i])
        np.testing.assert_array_equal(item["y"].numpy(), tiny_set.y["cross-val"][i])


def test_indices_subset_keeps_split_index(tiny_set):
    ds = PatchDataset(tiny_set.path, "val-test", indices=[2, 0])
    assert len(ds) == 2
    assert [ds[k]["index"] for k in range(2)] == [2, 0]
    np.testing.assert_array_equal(ds[0]["y"].numpy(), tiny_set.y["val-test"][2])
    with pytest.raises(IndexError, match="3 patches"):
        PatchDataset(tiny_set.path, "val-test", indices=[3])


def test_band_subset_and_reorder_by_name(tiny_set):
    ds = PatchDataset(tiny_set.path, "test", bands=["slope", "red", "blue"])
    assert ds.bands == ("slope", "red", "blue")
    x = ds[1]["x"].numpy()
    np.testing.assert_array_equal(x, tiny_set.x["test"][1][[5, 2, 0]])


def test_unknown_band_names_unknown_and_available(tiny_set):
    with pytest.raises(BandSelectionError) as err:
        PatchDataset(tiny_set.path, "test", bands=["red", "tc_wetness"])
    assert "tc_wetness" in str(err.value) and "'ndvi'" in str(err.value)
    assert isinstance(err.value, ValueError)


def test_in_memory_equals_streamed(tiny_set):
    kwargs = {"bands": ["nir", "ndvi"], "indices": [5, 1, 3], "augment": AugmentConfig(), "seed": 3}
    streamed = PatchDataset(tiny_set.path, "cross-val", **kwargs)
    memory = InMemoryPatchDataset(tiny_set.path, "cross-val", **kwargs)
    assert len(memory) == 3 and memory.x.shape == (3, 2, 16, 16)
    for k in range(3):
        a, b = streamed[k], memory[k]
        assert a["index"] == b["index"]
        np.testing.assert_array_equal(a["x"].numpy(), b["x"].numpy())
        np.testing.assert_array_equal(a["y"].numpy(), b["y"].numpy())
    memory[0]["x"].fill_(5)
    assert memory.x.max() <= 1  # items are copies


def test_reference_set_items(reference_set):
    ds = PatchDataset(reference_set.path, "cross-val")
    np.testing.assert_array_equal(ds[4]["x"].numpy(), reference_set.x["cross-val"][4])
    np.testing.assert_array_equal(ds[9]["y"].numpy(), reference_set.y["cross-val"][9])


def test_pickle_drops_open_handles_and_reopens(tiny_set):
    ds = PatchDataset(tiny_set.path, "cross-val")
    first = ds[3]["x"]
    assert ds._readers is not None
    clone = pickle.loads(pickle.dumps(ds))
    assert clone._readers is None
    np.testing.assert_array_equal(clone[3]["x"].numpy(), first.numpy())


def _collect(loader) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    seen = {}
    for batch in loader:
        for x, y, index in zip(batch["x"], batch["y"], batch["index"], strict=True):
            seen[int(index)] = (x.numpy(), y.numpy())
    return seen


def test_fork_workers_read_their_own_handles(tiny_set):
    ds = PatchDataset(tiny_set.path, "cross-val")
    ds[0]  # open the arrays in the parent: children must not reuse them
    loader = DataLoader(ds, batch_size=4, num_workers=2, multiprocessing_context="fork")
    seen = _collect(loader)
    assert sorted(seen) == list(range(len(ds)))
    for i, (x, y) in seen.items():
        np.testing.assert_array_equal(x, tiny_set.x["cross-val"][i])
        np.testing.assert_array_equal(y, tiny_set.y["cross-val"][i])


def test_spawn_persistent_workers_follow_set_epoch(tiny_set):
    """Augmented items from spawned persistent workers equal the in-process ones, epoch by epoch."""
    kwargs = {"indices": np.arange(12), "augment": AugmentConfig(), "seed": 7}
    ds = PatchDataset(tiny_set.path, "cross-val", **kwargs)
    ds[0]
    reference = PatchDataset(tiny_set.path, "cross-val", **kwargs)
    loader = DataLoader(
        ds, batch_size=4, num_workers=2, multiprocessing_context="spawn", persistent_workers=True
    )
    epochs = []
    for epoch in (0, 1):
        ds.set_epoch(epoch)
        reference.set_epoch(epoch)
        seen = _collect(loader)
        assert sorted(seen) == list(range(12))
        for k in range(12):
            item = reference[k]
            np.testing.assert_array_equal(seen[item["index"]][0], item["x"].numpy())
            np.testing.assert_array_equal(seen[item["index"]][1], item["y"].numpy())
        epochs.append(seen)
    assert any(not np.array_equal(epochs[0][i][0], epochs[1][i][0]) for i in range(12))


def test_truncated_x_is_an_error_not_zeros(broken_copy):
    tiny = broken_copy()
    _x_chunk(tiny.path / "test.zarr", 2).unlink()
    ds = PatchDataset(tiny.path, "test")
    np.testing.assert_array_equal(ds[1]["x"].numpy(), tiny.x["test"][1])
    with pytest.raises(TrainingSetError, match=r"patch 2 of .*test.*validate-train-data"):
        ds[2]
