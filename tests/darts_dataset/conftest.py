"""Tiny training sets for the darts_dataset tests: the real writer, and a reference-style one."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numcodecs
import numpy as np
import pytest
import zarr

from darts_preprocess.bands import norm_factors
from darts_preprocess.trainset_layout import PatchBatch, SceneInfo, SplitWriter, write_training_set_config

BANDS = ("blue", "green", "red", "nir", "ndvi", "slope")
PATCH = 16
# scenes per split: (scene id, region, n patches, has RTS)
SCENES: dict[str, list[tuple[str, str, int, bool]]] = {
    "cross-val": [
        ("s01", "Alaska", 3, True),
        ("s02", "Alaska", 2, False),
        ("s03", "Yukon", 4, True),
        ("s04", "Yukon", 2, False),
        ("s05", "Alaska", 3, True),
        ("s06", "Taymyr", 1, False),
        ("s07", "Taymyr", 2, True),
        ("s08", "Yukon", 3, False),
    ],
    "val-test": [("v01", "Alaska", 2, True), ("v02", "Yukon", 1, False)],
    "test": [("t01", "Herschel", 3, True), ("t02", "Herschel", 0, False)],
}


@dataclass
class TinySet:
    """A training set on disk and the arrays written into it."""

    path: Path
    bands: tuple[str, ...]
    x: dict[str, np.ndarray] = field(default_factory=dict)
    y: dict[str, np.ndarray] = field(default_factory=dict)
    scene_ids: dict[str, np.ndarray] = field(default_factory=dict)


def _scene_patches(rng: np.random.Generator, n: int, positive: bool) -> tuple[np.ndarray, np.ndarray]:
    x = rng.random((n, len(BANDS), PATCH, PATCH), dtype=np.float32)
    y = (rng.random((n, PATCH, PATCH)) < 0.1).astype(np.uint8) * 2  # some ignore pixels
    if positive:
        y[::2, 4:9, 5:11] = 1  # every other patch of a positive scene holds RTS
    return x, y


def write_tiny_set(path: Path, seed: int = 0, scenes: dict | None = None) -> TinySet:
    """Write a darts (zarr v3, with metadata) training set of 16 px patches."""
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True, exist_ok=True)
    tiny = TinySet(path=path, bands=BANDS)
    scenes = SCENES if scenes is None else scenes
    for split, split_scenes in scenes.items():
        writer = SplitWriter(path, split, BANDS, PATCH)
        xs, ys, ids = [], [], []
        for scene_id, region, n, positive in split_scenes:
            x, y = _scene_patches(rng, n, positive)
            rows = np.arange(n, dtype=np.int32) * PATCH
            geo = np.tile([2.0, 0.0, 1000.0, 0.0, -2.0, 5000.0], (n, 1))
            writer.append(PatchBatch(SceneInfo(scene_id, region, "EPSG:32606"), x, y, rows, rows * 0, geo))
            xs.append(x), ys.append(y), ids.extend([scene_id] * n)
        writer.finish()
        tiny.x[split], tiny.y[split] = np.concatenate(xs), np.concatenate(ys)
        tiny.scene_ids[split] = np.array(ids)
    settings = {
        "bands": list(BANDS),
        "norm_factors": norm_factors(BANDS),
        "patch_size": PATCH,
        "overlap": 0,
        "n_patches": {split: len(tiny.x[split]) for split in scenes},
    }
    write_training_set_config(path, settings)
    return tiny


def write_reference_set(path: Path, n_patches: dict[str, int] | None = None, seed: int = 1) -> TinySet:
    """A set as the reference tool writes it: zarr v2, Blosc-lz4, chunks n=1, only x and y, no factors."""
    rng = np.random.default_rng(seed)
    n_patches = n_patches or {"cross-val": 10, "val-test": 2, "test": 3}
    bands = ("blue", "green", "red", "nir")
    tiny = TinySet(path=path, bands=bands)
    path.mkdir(parents=True, exist_ok=True)
    blosc = numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)
    for split, n in n_patches.items():
        group = zarr.open_group(path / f"{split}.zarr", mode="w", zarr_format=2)
        x = rng.random((n, len(bands), PATCH, PATCH), dtype=np.float32)
        y = (rng.random((n, PATCH, PATCH)) < 0.2).astype(np.uint8)
        xa = group.create_array(
            "x", shape=x.shape, chunks=(1, len(bands), PATCH, PATCH), dtype="f4", compressors=blosc
        )
        ya = group.create_array("y", shape=y.shape, chunks=(1, PATCH, PATCH), dtype="u1", compressors=blosc)
        xa[:], ya[:] = x, y
        tiny.x[split], tiny.y[split] = x, y
    (path / "config.toml").write_text(
        '[darts]\nbands = ["blue", "green", "red", "nir"]\npatch-size = 16\noverlap = 0\n'
        f"n-patches = {{ cross-val = {n_patches['cross-val']}, val-test = {n_patches['val-test']}, "
        f"test = {n_patches['test']} }}\n"
    )
    return tiny


@pytest.fixture(scope="session")
def tiny_set(tmp_path_factory: pytest.TempPathFactory) -> TinySet:
    """A valid darts set, shared read-only by tests (copy it before breaking it)."""
    return write_tiny_set(tmp_path_factory.mktemp("tiny") / "train")


@pytest.fixture(scope="session")
def reference_set(tmp_path_factory: pytest.TempPathFactory) -> TinySet:
    """A valid reference-tool set (zarr v2, no metadata), shared read-only."""
    return write_reference_set(tmp_path_factory.mktemp("reference") / "train")


@pytest.fixture
def broken_copy(tiny_set: TinySet, tmp_path: Path):
    """A function giving a fresh copy of the tiny set to break."""
    import shutil

    def copy() -> TinySet:
        target = tmp_path / f"copy{len(list(tmp_path.iterdir()))}"
        shutil.copytree(tiny_set.path, target)
        return TinySet(
            path=target, bands=tiny_set.bands, x=tiny_set.x, y=tiny_set.y, scene_ids=tiny_set.scene_ids
        )

    return copy


@pytest.fixture
def make_reference_set():
    """:func:`write_reference_set`, for tests that need their own."""
    return write_reference_set
