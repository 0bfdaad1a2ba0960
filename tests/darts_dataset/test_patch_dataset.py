"""PatchDataset / InMemoryPatchDataset: items, band selection, pickling, DataLoader workers."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from darts_dataset import AugmentConfig, BandSelectionError, InMemoryPatchDataset, PatchDataset
from torch.utils.data import DataLoader


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
        torch.testing.assert_close(a["x"], b["x"], rtol=0, atol=0)
        torch.testing.assert_close(a["y"], b["y"], rtol=0, atol=0)
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
    torch.testing.assert_close(clone[3]["x"], first)


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_dataloader_workers(tiny_set, context):
    ds = PatchDataset(tiny_set.path, "cross-val")
    ds[0]  # open the arrays in the parent: children must not reuse them
    loader = DataLoader(ds, batch_size=4, num_workers=2, multiprocessing_context=context)
    seen = {}
    for batch in loader:
        for x, y, index in zip(batch["x"], batch["y"], batch["index"], strict=True):
            seen[int(index)] = (x.numpy(), y.numpy())
    assert sorted(seen) == list(range(len(ds)))
    for i, (x, y) in seen.items():
        np.testing.assert_array_equal(x, tiny_set.x["cross-val"][i])
        np.testing.assert_array_equal(y, tiny_set.y["cross-val"][i])
