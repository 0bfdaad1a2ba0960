"""Samples/s of ``darts_dataset.PatchDataset`` against a numpy memmap of the same patches.

Both read the same patches in the same random order, in one process, after a warm-up pass (page
cache warm), in alternating timed passes (the best of each counts), and produce the same items
(x float32 tensor, y int64 tensor). The zarr set is written by the real ``SplitWriter``;
``--variants`` adds zarr v2 copies with other codecs for x and y to show what a codec costs, and
``zarr array[i]`` is zarr's own indexing on the writer's set.

    uv run python benchmarks/loader.py                      # 128 patches of 10 x 256 x 256
    uv run python benchmarks/loader.py --n 64 --patch-size 512 --variants none blosc-lz4

Goal: PatchDataset >= 0.5x memmap.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numcodecs
import numpy as np
import torch
import zarr

from darts_core.bands import norm_factors
from darts_core.trainset_layout import PatchBatch, SceneInfo, SplitWriter, write_training_set_config
from darts_dataset import PatchDataset

BANDS = (
    "blue",
    "green",
    "red",
    "nir",
    "ndvi",
    "relative_elevation",
    "slope",
    "tc_brightness",
    "tc_greenness",
    "tc_wetness",
)
VARIANTS: dict[str, object] = {
    "none": None,
    "blosc-lz4": numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE),
    "zstd": numcodecs.Zstd(level=3),
}


def _patches(rng: np.random.Generator, n: int, c: int, s: int) -> tuple[np.ndarray, np.ndarray]:
    """Smooth, quantised fields (like encoded bands scaled to [0, 1]) and blobby labels."""
    coarse = rng.random((n, c, s // 32 + 1, s // 32 + 1))
    smooth = np.kron(coarse, np.ones((1, 1, 32, 32)))[:, :, :s, :s]
    dn = np.round((smooth * 0.6 + rng.random((n, c, s, s)) * 0.05) * 3000)  # integer DN, as encoded
    x = np.clip(dn / 3000, 0, 1).astype(np.float32)
    y = (smooth[:, 0] > 0.75).astype(np.uint8)
    y[:, :8] = 2
    return x, y


def write_sets(root: Path, n: int, s: int, seed: int) -> tuple[Path, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    train = root / "train"
    train.mkdir(parents=True)
    writer = SplitWriter(train, "cross-val", BANDS, s)
    xs, ys = [], []
    for start in range(0, n, 16):  # 16 patches per "scene"
        x, y = _patches(rng, min(16, n - start), len(BANDS), s)
        zeros = np.zeros(len(x), dtype=np.int32)
        scene = SceneInfo(f"scene{start}", "r", "EPSG:3413")
        writer.append(PatchBatch(scene, x, y, zeros, zeros, np.zeros((len(x), 6))))
        xs.append(x), ys.append(y)
    writer.finish()
    config = {"bands": list(BANDS), "norm_factors": norm_factors(BANDS), "patch_size": s}
    write_training_set_config(train, config | {"n_patches": {"cross-val": n}})
    x, y = np.concatenate(xs), np.concatenate(ys)
    np.save(root / "x.npy", x)
    np.save(root / "y.npy", y)
    return train, x, y


def write_variant(train: Path, target: Path, compressor: object, x: np.ndarray, y: np.ndarray) -> Path:
    target.mkdir(parents=True)
    shutil.copy(train / "config.toml", target / "config.toml")
    group = zarr.open_group(target / "cross-val.zarr", mode="w", zarr_format=2)
    group.create_array("x", shape=x.shape, chunks=(1, *x.shape[1:]), dtype="f4", compressors=compressor)[
        :
    ] = x
    group.create_array("y", shape=y.shape, chunks=(1, *y.shape[1:]), dtype="u1", compressors=compressor)[
        :
    ] = y
    return target


def _pass(read: Callable[[int], object], order: np.ndarray) -> float:
    start = time.perf_counter()
    for i in order:
        read(int(i))
    return time.perf_counter() - start


def paired_rates(
    base: Callable[[int], object], read: Callable[[int], object], order: np.ndarray, repeats: int
) -> tuple[float, float]:
    """Best samples/s of ``base`` and ``read`` over alternating passes (both see the same load)."""
    _pass(base, order), _pass(read, order)  # warm-up: page cache and lazy opening
    best_base = best_read = float("inf")
    for _ in range(repeats):
        best_base = min(best_base, _pass(base, order))
        best_read = min(best_read, _pass(read, order))
    return len(order) / best_base, len(order) / best_read


def memmap_reader(root: Path) -> Callable[[int], dict]:
    mx = np.load(root / "x.npy", mmap_mode="r")
    my = np.load(root / "y.npy", mmap_mode="r")

    def read(i: int) -> dict:
        x = torch.from_numpy(np.array(mx[i]))
        y = torch.from_numpy(np.array(my[i]).astype(np.int64))
        return {"x": x, "y": y, "index": i}

    return read


def zarr_index_reader(train: Path) -> Callable[[int], dict]:
    group = zarr.open_group(train / "cross-val.zarr", mode="r")
    zx, zy = group["x"], group["y"]

    def read(i: int) -> dict:
        return {"x": torch.from_numpy(zx[i]), "y": torch.from_numpy(zy[i].astype(np.int64)), "index": i}

    return read


def disk_ratio(path: Path, raw_bytes: int) -> float:
    return (
        sum(f.stat().st_size for f in (path / "cross-val.zarr" / "x").rglob("*") if f.is_file()) / raw_bytes
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=128, help="patches")
    parser.add_argument("--patch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5, help="timed passes; the best counts")
    parser.add_argument("--variants", nargs="*", default=["none", "blosc-lz4"], choices=sorted(VARIANTS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="darts-loader-bench-") as tmp:
        root = Path(tmp)
        train, x, y = write_sets(root, args.n, args.patch_size, args.seed)
        order = np.random.default_rng(args.seed).permutation(args.n)
        memmap = memmap_reader(root)
        print(f"{args.n} patches of {len(BANDS)} x {args.patch_size} x {args.patch_size} float32 "
              f"({x[0].nbytes / 2**20:.2f} MiB each), random order, best of {args.repeats} warm passes; "
              "memmap and reader passes alternate")  # fmt: skip
        print(f"{'reader':<34} {'samples/s':>10} {'memmap/s':>10} {'ratio':>7} {'x on disk':>10}")
        rows = [("PatchDataset, SplitWriter codecs", train, PatchDataset(train, "cross-val").__getitem__)]
        rows.append(("zarr array[i], SplitWriter codecs", train, zarr_index_reader(train)))
        for name in args.variants:
            path = write_variant(train, root / name, VARIANTS[name], x, y)
            reader = PatchDataset(path, "cross-val").__getitem__
            rows.append((f"PatchDataset, x+y {name} (zarr v2)", path, reader))
        for label, path, read in rows:
            base, value = paired_rates(memmap, read, order, args.repeats)
            size = disk_ratio(path, x.nbytes)
            print(f"{label:<34} {value:>10.0f} {base:>10.0f} {value / base:>6.2f}x {size:>10.2f}")


if __name__ == "__main__":
    main()
