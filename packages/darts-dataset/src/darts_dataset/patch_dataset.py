"""torch Datasets over one split of a training set: streamed from zarr, or loaded into memory.

Items are ``{"x": float32 [c, h, w], "y": int64 [h, w] in {0, 1, 2}, "index": int}`` where
``index`` is the patch's position in the split (stable under ``indices`` subsets).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from darts_core.errors import TrainingSetError
from darts_dataset._chunks import ChunkReader, MissingChunkError
from darts_dataset.augment import AugmentConfig, Augmenter
from darts_dataset.errors import BandSelectionError
from darts_dataset.nextgen_options import NextgenSetOptions
from darts_dataset.nextgen_set import apply_transform
from darts_dataset.training_set import TrainingSet

logger = logging.getLogger(__name__)

Item = dict[str, Any]


def select_bands(available: Sequence[str], requested: Sequence[str] | None) -> np.ndarray:
    """Channel indices of ``requested`` band names in ``available`` (all, in order, when None)."""
    if requested is None:
        return np.arange(len(available), dtype=np.intp)
    requested = list(requested)
    unknown = [b for b in requested if b not in available]
    if unknown:
        raise BandSelectionError(
            f"band(s) {unknown} not in the training set; available bands: {list(available)}"
        )
    if len(set(requested)) != len(requested) or not requested:
        raise BandSelectionError(f"band selection {requested} is empty or names a band twice")
    return np.array([list(available).index(b) for b in requested], dtype=np.intp)


def _resolve_indices(indices: Sequence[int] | np.ndarray | None, n: int, split: str) -> np.ndarray:
    if indices is None:
        return np.arange(n, dtype=np.int64)
    out = np.asarray(indices, dtype=np.int64).reshape(-1)
    if out.size and (out.min() < 0 or out.max() >= n):
        raise IndexError(f"indices span {out.min()}..{out.max()} but split {split!r} has {n} patches")
    return out


class _SplitDataset(Dataset[Item]):
    """Shared set-up of both datasets: bands, indices, augmentation, the epoch."""

    def __init__(
        self,
        train_data_dir: Path | str,
        split: str,
        bands: Sequence[str] | None = None,
        indices: Sequence[int] | np.ndarray | None = None,
        augment: AugmentConfig | None = None,
        seed: int = 42,
        set_options: NextgenSetOptions | None = None,
    ) -> None:
        self.train_data_dir = Path(train_data_dir)
        self.split = split
        training_set = TrainingSet(self.train_data_dir, set_options)
        self.training_set = training_set
        data = training_set.split_data(split)
        x = data.x
        if x.shape[1] != len(training_set.bands):
            raise TrainingSetError(
                f"split {split!r}: x has {x.shape[1]} channels but config.toml lists "
                f"{len(training_set.bands)} bands {list(training_set.bands)}"
            )
        self.n_split = data.n
        self.rows = data.rows
        """Row in the arrays of each patch of the split (None: the split is the whole array)."""
        self.patch_shape: tuple[int, int] = (int(x.shape[2]), int(x.shape[3]))
        self.channels = select_bands(training_set.bands, bands)
        self.bands: tuple[str, ...] = tuple(training_set.bands[i] for i in self.channels)
        self._all_channels = np.array_equal(self.channels, np.arange(x.shape[1]))
        self.transform = training_set.band_transform(self.channels)
        """(gain, bias) of the selected channels into darts' normalisation (darts-nextgen sets)."""
        self.indices = _resolve_indices(indices, self.n_split, split)
        self.seed = int(seed)
        self.augmenter = Augmenter(augment, self.bands, self.seed) if augment is not None else None

    def __len__(self) -> int:
        return len(self.indices)

    def set_epoch(self, epoch: int) -> None:
        """Epoch for augmentation draws (reaches workers already started)."""
        if self.augmenter is not None:
            self.augmenter.set_epoch(epoch)

    def _item(self, index: int, x: np.ndarray, y: np.ndarray) -> Item:
        if self.augmenter is not None:
            x, y = self.augmenter(x, y, index)
        return {"x": torch.from_numpy(x), "y": torch.from_numpy(y.astype(np.int64)), "index": index}


class PatchDataset(_SplitDataset):
    """Streams patches of one split from zarr, one chunk file per item.

    The arrays are opened lazily, once per process (a forked or spawned DataLoader worker opens
    its own; open handles are never pickled). No metadata is read per item.
    """

    def __init__(
        self,
        train_data_dir: Path | str,
        split: str,
        bands: Sequence[str] | None = None,
        indices: Sequence[int] | np.ndarray | None = None,
        augment: AugmentConfig | None = None,
        seed: int = 42,
        set_options: NextgenSetOptions | None = None,
    ) -> None:
        super().__init__(train_data_dir, split, bands, indices, augment, seed, set_options)
        self._readers: tuple[ChunkReader, ChunkReader] | None = None
        self._pid: int | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_readers"] = None
        state["_pid"] = None
        return state

    def _open(self) -> tuple[ChunkReader, ChunkReader]:
        if self._readers is None or self._pid != os.getpid():
            data = self.training_set.split_data(self.split)
            self._readers = (ChunkReader(data.x), ChunkReader(data.y))
            self._pid = os.getpid()
        return self._readers

    def read(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Raw (x with the selected bands, y uint8) of patch ``index`` of the split, no augmentation."""
        x_reader, y_reader = self._open()
        row = index if self.rows is None else int(self.rows[index])
        try:
            x = x_reader.read(row, strict=True)
        except MissingChunkError as err:  # model-ready patches are never all-fill: the array is truncated
            raise TrainingSetError(
                f"patch {index} of {self.train_data_dir}/{self.split}"
                f"{'' if row == index else f' (data.zarr row {row})'}: {err}; the set is "
                "truncated (check it with `darts validate-train-data`)"
            ) from err
        if not self._all_channels:
            x = x[self.channels]
        if self.transform is not None:
            x = apply_transform(x.astype(np.float32, copy=False), *self.transform)
        return x, y_reader.read(row)

    def __getitem__(self, k: int) -> Item:
        index = int(self.indices[k])
        x, y = self.read(index)
        return self._item(index, x, y)


class InMemoryPatchDataset(_SplitDataset):
    """Same items as :class:`PatchDataset`, read once into memory at construction."""

    def __init__(
        self,
        train_data_dir: Path | str,
        split: str,
        bands: Sequence[str] | None = None,
        indices: Sequence[int] | np.ndarray | None = None,
        augment: AugmentConfig | None = None,
        seed: int = 42,
        set_options: NextgenSetOptions | None = None,
    ) -> None:
        super().__init__(train_data_dir, split, bands, indices, augment, seed, set_options)
        source = PatchDataset(train_data_dir, split, bands=bands, set_options=set_options)
        h, w = self.patch_shape
        self.x = np.empty((len(self.indices), len(self.channels), h, w), dtype=np.float32)
        self.y = np.empty((len(self.indices), h, w), dtype=np.uint8)
        size_mib = (self.x.nbytes + self.y.nbytes) / 2**20
        logger.info(
            "loading %d patches of %s/%s into memory (%.1f MiB)", len(self), train_data_dir, split, size_mib
        )
        for k, index in enumerate(self.indices):
            self.x[k], self.y[k] = source.read(int(index))

    def __getitem__(self, k: int) -> Item:
        return self._item(int(self.indices[k]), self.x[k].copy(), self.y[k].copy())
