"""Tiny training sets on disk: written by the real SplitWriter, or as the reference tool writes them.

- :func:`write_tiny_set`: the dataset-contract set, 16 px patches of noise, scenes in several
  regions, every other patch of a positive scene holds RTS, some ignore pixels;
- :func:`write_tiny_training_set`: a learnable set, 64 px patches with bright blobs (RTS) on a darker
  background and no-data strips;
- :func:`write_reference_set`: zarr format 2, Blosc-lz4, chunks of one patch, only ``x`` and ``y``,
  no norm factors and no per-sample metadata.

Same arguments, same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numcodecs
import numpy as np
import zarr

from darts_core.bands import norm_factors
from darts_core.labels import LABEL_IGNORE
from darts_core.trainset_layout import PatchBatch, SceneInfo, SplitWriter, write_training_set_config
from darts_test_support.bands import DATASET_BANDS, OPTICAL_BANDS, TRAIN_BANDS


class Scene(NamedTuple):
    """One scene of a tiny set: its id, region, number of patches and whether it holds RTS."""

    id: str
    region: str
    n_patches: int
    positive: bool = True


@dataclass
class TinySet:
    """A training set on disk and the arrays written into it."""

    path: Path
    bands: tuple[str, ...]
    x: dict[str, np.ndarray] = field(default_factory=dict)
    y: dict[str, np.ndarray] = field(default_factory=dict)
    scene_ids: dict[str, np.ndarray] = field(default_factory=dict)


PatchMaker = Callable[[np.random.Generator, int, int, int, bool], tuple[np.ndarray, np.ndarray]]
"""``(rng, n, n_bands, patch, positive) -> (x (n, c, p, p) float32, y (n, p, p) uint8)``."""

DATASET_SCENES: dict[str, list[Scene]] = {
    "cross-val": [
        Scene("s01", "Alaska", 3, True),
        Scene("s02", "Alaska", 2, False),
        Scene("s03", "Yukon", 4, True),
        Scene("s04", "Yukon", 2, False),
        Scene("s05", "Alaska", 3, True),
        Scene("s06", "Taymyr", 1, False),
        Scene("s07", "Taymyr", 2, True),
        Scene("s08", "Yukon", 3, False),
    ],
    "val-test": [Scene("v01", "Alaska", 2, True), Scene("v02", "Yukon", 1, False)],
    "test": [Scene("t01", "Herschel", 3, True), Scene("t02", "Herschel", 0, False)],
}
"""The scenes of :func:`write_tiny_set`: several regions, positive and negative, one empty."""
TRAIN_SCENES: dict[str, list[Scene]] = {
    split: [Scene(f"{split}-scene{s}", "Region T" if split == "test" else "Region A", per) for s in range(n)]
    for split, (n, per) in {"cross-val": (4, 3), "val-test": (1, 2), "test": (1, 2)}.items()
}
"""The scenes of :func:`write_tiny_training_set`: 12 cross-val patches in 4 scenes, 2 + 2 held out."""


def noise_patches(
    rng: np.random.Generator, n: int, n_bands: int, patch: int, positive: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Uniform noise; ~10 % ignore pixels; every other patch of a positive scene holds an RTS box."""
    x = rng.random((n, n_bands, patch, patch), dtype=np.float32)
    y = (rng.random((n, patch, patch)) < 0.1).astype(np.uint8) * LABEL_IGNORE
    if positive:
        y[::2, patch // 4 : patch // 4 + 5, patch // 3 : patch // 3 + 6] = 1
    return x, y


def blob_patches(
    rng: np.random.Generator, n: int, n_bands: int, patch: int, positive: bool
) -> tuple[np.ndarray, np.ndarray]:
    """0-2 bright discs (RTS) on a darker noisy background; a no-data strip in ~30 % of the patches."""
    yy, xx = np.mgrid[:patch, :patch]
    xs, ys = [], []
    for _ in range(n):
        y = np.zeros((patch, patch), dtype=np.uint8)
        x = rng.uniform(0.1, 0.3, size=(n_bands, patch, patch)).astype(np.float32)
        for _ in range(rng.integers(0, 3) if positive else 0):
            cy, cx = rng.integers(10, patch - 10, size=2).tolist()
            disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= int(rng.integers(4, 10)) ** 2
            y[disc] = 1
            x[:, disc] += 0.5
        if rng.random() < 0.3:
            y[:, :4] = 2
            x[:, :, :4] = 0.0
        xs.append(np.clip(x, 0, 1))
        ys.append(y)
    return np.stack(xs), np.stack(ys)


def write_split_set(
    path: Path,
    scenes: Mapping[str, Sequence[Scene]],
    bands: Sequence[str],
    patch: int,
    make_patches: PatchMaker,
    seed: int = 0,
) -> TinySet:
    """Write a darts training set (zarr v3, per-patch metadata, config.toml) of the given scenes."""
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True, exist_ok=True)
    tiny = TinySet(path=path, bands=tuple(bands))
    for split, split_scenes in scenes.items():
        writer = SplitWriter(path, split, tuple(bands), patch)
        xs, ys, ids = [], [], []
        for scene in split_scenes:
            x, y = make_patches(rng, scene.n_patches, len(bands), patch, scene.positive)
            rows = np.arange(scene.n_patches, dtype=np.int32) * patch
            geo = np.tile([3.0, 0.0, 500000.0, 0.0, -3.0, 7000000.0], (scene.n_patches, 1))
            info = SceneInfo(id=scene.id, region=scene.region, crs="EPSG:32633")
            writer.append(PatchBatch(info, x, y, rows, np.zeros_like(rows), geo))
            xs.append(x), ys.append(y), ids.extend([scene.id] * scene.n_patches)
        writer.finish()
        tiny.x[split], tiny.y[split] = np.concatenate(xs), np.concatenate(ys)
        tiny.scene_ids[split] = np.array(ids)
    settings = {
        "bands": list(bands),
        "norm_factors": norm_factors(tuple(bands)),
        "patch_size": patch,
        "overlap": 0,
        "n_patches": {split: len(tiny.x[split]) for split in scenes},
    }
    write_training_set_config(path, settings)
    return tiny


def write_tiny_set(
    path: Path,
    seed: int = 0,
    scenes: Mapping[str, Sequence[Scene]] | None = None,
    bands: Sequence[str] = DATASET_BANDS,
    patch: int = 16,
) -> TinySet:
    """The dataset-contract set: :data:`DATASET_SCENES` (or ``scenes``) of :func:`noise_patches`."""
    return write_split_set(
        path, DATASET_SCENES if scenes is None else scenes, bands, patch, noise_patches, seed
    )


def write_tiny_training_set(root: Path, seed: int = 0, bands: Sequence[str] = TRAIN_BANDS) -> Path:
    """The learnable set: :data:`TRAIN_SCENES` of 64 px :func:`blob_patches`; returns ``root``."""
    return write_split_set(root, TRAIN_SCENES, bands, 64, blob_patches, seed).path


def write_sparse_training_set(root: Path, seed: int = 3) -> Path:
    """:func:`write_tiny_training_set` with RTS in one cross-val scene of four (positive-free folds)."""
    scenes = {
        **TRAIN_SCENES,
        "cross-val": [Scene("pos", "A", 3, True)] + [Scene(f"neg{i}", "A", 3, False) for i in range(3)],
    }
    return write_split_set(root, scenes, TRAIN_BANDS, 64, blob_patches, seed).path


def write_reference_set(
    path: Path, n_patches: Mapping[str, int] | None = None, seed: int = 1, patch: int = 16
) -> TinySet:
    """A set as the reference tool writes it (see the module docstring); learnable RTS boxes."""
    rng = np.random.default_rng(seed)
    n_patches = dict(n_patches or {"cross-val": 10, "val-test": 2, "test": 3})
    tiny = TinySet(path=path, bands=OPTICAL_BANDS)
    path.mkdir(parents=True, exist_ok=True)
    blosc = numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)
    for split, n in n_patches.items():
        group = zarr.open_group(path / f"{split}.zarr", mode="w", zarr_format=2)
        y = (rng.random((n, patch, patch)) < 0.05).astype(np.uint8)
        y[::2, patch // 4 : patch // 4 + 12, patch // 5 : patch // 5 + 12] = 1
        y[1::3, :, :3] = 2
        x = rng.uniform(0.1, 0.3, size=(n, len(OPTICAL_BANDS), patch, patch)).astype(np.float32)
        x += 0.5 * (y == 1)[:, None]
        x = np.clip(x, 0, 1)
        for name, values, dtype in (("x", x, "f4"), ("y", y, "u1")):
            array = group.create_array(
                name, shape=values.shape, chunks=(1, *values.shape[1:]), dtype=dtype, compressors=blosc
            )
            array[:] = values
        tiny.x[split], tiny.y[split] = x, y
    names = ", ".join(f'"{b}"' for b in OPTICAL_BANDS)
    counts = ", ".join(f"{k} = {v}" for k, v in n_patches.items())
    (path / "config.toml").write_text(
        f"[darts]\nbands = [{names}]\npatch-size = {patch}\noverlap = 0\nn-patches = {{ {counts} }}\n"
    )
    return tiny
