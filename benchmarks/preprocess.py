"""Benchmark preprocess-planet-train-data: seconds per scene, ratio to an I/O floor, 1 vs 2 dask workers.

Usage::

    uv run python benchmarks/preprocess.py [--n-scenes 4] [--size-px 2048] [--patch-size 256]
        [--repeats 3] [--work-dir DIR] [--json FILE] [--labels-dir DIR]

Scenes are generated once (synthetic PlanetScope on the real label sites, all ten bands, ArcticDEM
2 m UTM and TCVIS 30 m lon/lat caches; labels from ``--labels-dir``, by default the subset in
``tests/data/rts-labels``, which keeps the labels within 800 m of each site: pass the full data set,
doi:10.5281/zenodo.12706220, to burn every label of the larger scenes); with ``--work-dir`` an
earlier generation of the same size is reused. Every repeat times, in this order:

- ``1 worker``: the whole pipeline in-process (``dask_worker=1``), discovery to ``config.toml``,
  with the default ``dask_threads`` (2 scenes at once on a machine with 2 or more CPUs);
- ``1 thread``: the same, one scene at a time (``dask_threads=1``);
- ``2 workers``: the same with a dask LocalCluster of two worker processes; the cluster start-up
  (measured apart, an empty LocalCluster of two processes) is included in this figure;
- ``I/O floor``: only reading what the pipeline reads and writing what it writes: every SR and
  udm2 file, the DEM and TCVIS tiles (each fully decoded), the label, footprint and admin files,
  plus writing every output file: the same patches with the same writer (``SplitWriter``: zarr v3,
  chunks n=1), labels.geojson with the same writer, config.toml and preprocess-report.json; what
  is written is taken from the 1-worker set before that clock starts.

Printed: medians over the repeats (each repeat listed too, as the machine may be shared), seconds
per scene, the ratio ``1 worker / I/O floor`` (goal <= 2x) in wall-clock and in CPU time of this
process (``1 worker cpu``, ``I/O floor cpu``: steadier than wall-clock when other jobs share the
cores; includes GDAL/FFT threads), and ``2 workers / 1 worker``. ``--json`` keeps the raw figures.
The script tunes the allocator at its start as the ``darts preprocess-*`` commands do
(:mod:`darts_preprocess.jobs.allocator`). Compare figures from the same machine only. The previous
output set is removed and the page cache flushed (``os.sync``) before each clock starts, so no run
pays for the write-back of an earlier one.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import zarr

from darts_core.trainset_layout import (
    CONFIG_FILE,
    LABELS_FILE,
    SPLITS,
    PatchBatch,
    SceneInfo,
    SplitWriter,
    split_path,
)
from darts_preprocess.config import PlanetPreprocessConfig
from darts_preprocess.jobs.allocator import tune_allocator_for_scenes
from darts_preprocess.labels.collection import load_label_collection
from darts_preprocess.pipeline import preprocess_planet_train_data
from darts_preprocess.sources import discover_planet_scenes
from darts_preprocess.synthetic.collections import (
    TEST_REGION,
    SyntheticCollection,
    generate_planet_collection,
)
from darts_preprocess.trainset.report import REPORT_FILE, write_labels

REPO = Path(__file__).resolve().parents[1]
LABELS = REPO / "tests" / "data" / "rts-labels"


def _config(
    c: SyntheticCollection, out: Path, workers: int, args: argparse.Namespace, threads: int | None = None
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
        dask_threads=threads,
        overwrite=True,
    )


def _collection(work: Path, args: argparse.Namespace) -> SyntheticCollection:
    """Generate the scenes, or reuse an earlier generation of the same size under ``work``."""
    root, stamp = work / "scenes", work / "scenes.json"
    wanted = {"n_scenes": args.n_scenes, "size_px": args.size_px}
    if stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        ids = tuple(r.scene_id for r in discover_planet_scenes(root / "planet").scenes)
        folders = {k: root / k for k in ("planet", "arcticdem", "tcvis", "admin")}
        print(f"reusing {len(ids)} scenes of {args.size_px} px in {root}")
        return SyntheticCollection(
            folders["planet"],
            args.labels_dir,
            folders["arcticdem"],
            folders["tcvis"],
            folders["admin"],
            TEST_REGION,
            ids,
        )
    t = time.perf_counter()
    coll = generate_planet_collection(root, args.labels_dir, n_scenes=args.n_scenes, size_px=args.size_px)
    stamp.write_text(json.dumps(wanted))
    print(
        f"generated {args.n_scenes} scenes of {args.size_px} px in {time.perf_counter() - t:.1f} s ({work})"
    )
    return coll


def _read_inputs(c: SyntheticCollection) -> int:
    """Read every input the pipeline reads, fully; returns the raster bytes decoded."""
    n = 0
    for ref in discover_planet_scenes(c.data_dir).scenes:
        for path in (ref.sr_path, ref.udm2_path):
            with rasterio.open(path) as src:
                n += src.read().nbytes
    for folder in (c.arcticdem_dir, c.tcvis_dir):
        for path in sorted(folder.glob("*.tif")):
            with rasterio.open(path) as src:
                n += src.read().nbytes
    load_label_collection(c.labels_dir)
    for path in sorted(c.admin_dir.glob("*.gpkg")):
        gpd.read_file(path)
    return n


def _load_set(source: Path) -> dict[str, dict[str, np.ndarray]]:
    out = {}
    for split in SPLITS:
        group = zarr.open_group(split_path(source, split), mode="r")
        out[split] = {k: np.asarray(group[k][:]) for k in group.array_keys()}
    return out


def _write_outputs(
    batches: dict[str, dict[str, np.ndarray]], target: Path, bands: list[str], size: int
) -> None:
    """Write the patches again with the pipeline's writer, one batch per scene."""
    for split, arrays in batches.items():
        writer = SplitWriter(target, split, bands, size)
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


def _cluster_startup_s() -> float:
    from distributed import Client, LocalCluster

    start = time.perf_counter()
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster),
    ):
        return time.perf_counter() - start


def _floor(coll: SyntheticCollection, work: Path, bands: list[str], args: argparse.Namespace) -> float:
    source = work / "set-1-worker"
    batches = _load_set(source)
    labels = gpd.read_file(source / LABELS_FILE)
    texts = {name: (source / name).read_text() for name in (CONFIG_FILE, REPORT_FILE)}
    shutil.rmtree(work / "floor", ignore_errors=True)
    os.sync()  # no write-back of earlier runs pending on this clock
    start = time.perf_counter()
    _read_inputs(coll)
    _write_outputs(batches, work / "floor", bands, args.patch_size)
    write_labels(work / "floor", labels)
    for name, text in texts.items():
        (work / "floor" / name).write_text(text)
    return time.perf_counter() - start


def _fmt(values: list[float]) -> str:
    return f"{statistics.median(values):7.2f}  ({' '.join(f'{v:.2f}' for v in values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-scenes", type=int, default=4)
    parser.add_argument("--size-px", type=int, default=2048)
    parser.add_argument("--patch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the raw timings here")
    parser.add_argument("--labels-dir", type=Path, default=LABELS, help="RTS labels (default: %(default)s)")
    args = parser.parse_args()
    tune_allocator_for_scenes()  # as the darts preprocess-* commands do, before any thread starts
    logging.basicConfig(level=logging.WARNING)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="darts-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    coll = _collection(work, args)
    bands = list(_config(coll, work, 1, args).bands)
    preprocess_planet_train_data(_config(coll, work / "warm", 1, args), progress=False)  # imports, caches
    names = (
        "1 worker",
        "1 thread",
        "2 workers",
        "I/O floor",
        "cluster start",
        "1 worker cpu",
        "I/O floor cpu",
    )
    t: dict[str, list[float]] = {name: [] for name in names}
    runs = (("1 worker", 1, None), ("1 thread", 1, 1), ("2 workers", 2, None))
    for _ in range(args.repeats):
        for name, workers, threads in runs:
            out = work / f"set-{name.replace(' ', '-')}"
            shutil.rmtree(out, ignore_errors=True)  # not part of the timing
            os.sync()  # no write-back of earlier runs pending on this clock
            start, cpu = time.perf_counter(), time.process_time()
            result = preprocess_planet_train_data(_config(coll, out, workers, args, threads), progress=False)
            t[name].append(time.perf_counter() - start)
            if name == "1 worker":
                t["1 worker cpu"].append(time.process_time() - cpu)
        cpu = time.process_time()
        t["I/O floor"].append(_floor(coll, work, bands, args))
        t["I/O floor cpu"].append(time.process_time() - cpu)
        t["cluster start"].append(_cluster_startup_s())
    n = args.n_scenes
    print(f"{n} scenes x {args.size_px} px, {len(bands)} bands, {sum(result.n_patches.values())} patches")
    print(f"{'seconds, median (each repeat)':>30s}")
    for name, values in t.items():
        print(f"{name:>14s} total {_fmt(values)}   per scene {statistics.median(values) / n:.2f}")
    one, two, floor = (statistics.median(t[k]) for k in ("1 worker", "2 workers", "I/O floor"))
    threads = _config(coll, work, 1, args).n_threads
    single = statistics.median(t["1 thread"]) / floor
    print(f"1 worker runs {threads} scene(s) at once; 1 thread / I/O floor: {single:.2f}x")
    cpu_ratio = statistics.median(t["1 worker cpu"]) / statistics.median(t["I/O floor cpu"])
    paired = statistics.median(a / b for a, b in zip(t["1 worker"], t["I/O floor"], strict=True))
    print(
        f"ratio 1 worker / I/O floor: {one / floor:.2f}x wall (median of per-repeat ratios {paired:.2f}x), "
        f"{cpu_ratio:.2f}x CPU time (goal <= 2x)"
    )
    print(f"ratio 2 workers / I/O floor: {two / floor:.2f}x")
    print(f"2 workers / 1 worker: {two / one:.2f} (speed-up {one / two:.2f}x)")
    if args.json:
        args.json.write_text(json.dumps(t | {"n_scenes": n, "size_px": args.size_px}, indent=1))
    if args.work_dir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
