"""Benchmark preprocess-planet-train-data: seconds per scene, ratio to an I/O floor, 1 vs 2 dask workers.

Usage: ``uv run python benchmarks/preprocess.py [--n-scenes 4] [--size-px 1024] [--patch-size 256]``

Scenes are generated (synthetic PlanetScope on the real label sites, all ten bands, ArcticDEM and
TCVIS caches). Three timings:

- ``1 worker``: the pipeline in-process (``dask_worker=1``);
- ``2 workers``: a dask LocalCluster of two worker processes (start-up included, reported apart);
- ``I/O floor``: reading every input the pipeline reads (SR, udm2, DEM and TCVIS tiles, label and
  footprint files) plus writing the same output patches with the same writer (zarr v3, chunks n=1).

The goal is ``1 worker / I/O floor <= 2``. Timings are wall-clock on this machine; run it on an idle
machine and compare figures only from the same machine.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
import zarr

from darts_preprocess.config import PlanetPreprocessConfig
from darts_preprocess.labels import load_label_collection
from darts_preprocess.pipeline import preprocess_planet_train_data
from darts_preprocess.synthetic import SyntheticCollection, generate_planet_collection
from darts_preprocess.trainset_layout import SPLITS, PatchBatch, SceneInfo, SplitWriter, split_path

REPO = Path(__file__).resolve().parents[1]
LABELS = REPO / ".." / "shared" / "data" / "rts-labels"


def _config(
    c: SyntheticCollection, out: Path, workers: int, args: argparse.Namespace
) -> PlanetPreprocessConfig:
    return PlanetPreprocessConfig(
        data_dir=c.data_dir,
        labels_dir=c.labels_dir,
        train_data_dir=out,
        arcticdem_dir=c.arcticdem_dir,
        tcvis_dir=c.tcvis_dir,
        admin_dir=c.admin_dir,
        test_regions=(c.test_region,),
        patch_size=args.patch_size,
        overlap=16,
        exclude_nan=False,
        test_val_split=0.3,
        dask_worker=workers,
        overwrite=True,
    )


def _read_inputs(c: SyntheticCollection) -> int:
    """Read every raster and vector input fully; returns bytes read (to keep the work observable)."""
    n = 0
    for folder in (c.data_dir, c.arcticdem_dir, c.tcvis_dir):
        for path in sorted(folder.rglob("*.tif")):
            with rasterio.open(path) as src:
                n += src.read().nbytes
    n += len(load_label_collection(c.labels_dir).labels)
    return n


def _write_outputs(source: Path, target: Path, bands: list[str], patch_size: int) -> int:
    """Write the patches of ``source`` again with the same writer (data read before timing starts)."""
    batches = {}
    for split in SPLITS:
        group = zarr.open_group(split_path(source, split), mode="r")
        batches[split] = {k: np.asarray(group[k][:]) for k in group.array_keys()}
    start = time.perf_counter()
    for split, arrays in batches.items():
        writer = SplitWriter(target, split, bands, patch_size)
        scenes = arrays["scene_index"]
        for index in np.unique(scenes):
            sel = scenes == index
            writer.append(
                PatchBatch(
                    scene=SceneInfo(id=f"scene-{index}", region="", crs="EPSG:32600"),
                    x=arrays["x"][sel],
                    y=arrays["y"][sel],
                    patch_row=arrays["patch_row"][sel],
                    patch_col=arrays["patch_col"][sel],
                    geotransform=arrays["geotransform"][sel],
                )
            )
        writer.finish()
    return int(1e6 * (time.perf_counter() - start))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-scenes", type=int, default=4)
    parser.add_argument("--size-px", type=int, default=1024)
    parser.add_argument("--patch-size", type=int, default=256)
    parser.add_argument("--work-dir", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="darts-bench-"))
    t = time.perf_counter()
    coll = generate_planet_collection(work / "scenes", LABELS, n_scenes=args.n_scenes, size_px=args.size_px)
    print(
        f"generated {args.n_scenes} scenes of {args.size_px} px in {time.perf_counter() - t:.1f} s ({work})"
    )
    preprocess_planet_train_data(_config(coll, work / "warm", 1, args), progress=False)  # warm caches/imports

    timings = {}
    for workers in (1, 2):
        start = time.perf_counter()
        result = preprocess_planet_train_data(
            _config(coll, work / f"set-{workers}", workers, args), progress=False
        )
        timings[workers] = time.perf_counter() - start
        scene_s = sum(r.seconds for r in result.scene_reports.values())
        per_scene = timings[workers] / args.n_scenes
        print(
            f"{workers} worker(s): {timings[workers]:.2f} s total, {per_scene:.2f} s/scene "
            f"(scene work {scene_s:.2f} s), {sum(result.n_patches.values())} patches"
        )
    start = time.perf_counter()
    _read_inputs(coll)
    read_s = time.perf_counter() - start
    write_s = (
        _write_outputs(
            work / "set-1", work / "floor", list(_config(coll, work, 1, args).bands), args.patch_size
        )
        / 1e6
    )
    floor = read_s + write_s
    print(f"I/O floor: {floor:.2f} s (read inputs {read_s:.2f} s + write outputs {write_s:.2f} s)")
    print(f"ratio 1 worker / I/O floor: {timings[1] / floor:.2f}x (goal <= 2x)")
    print(f"ratio 2 workers / 1 worker: {timings[2] / timings[1]:.2f}")
    if args.work_dir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
