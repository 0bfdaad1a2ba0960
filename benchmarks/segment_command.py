"""The whole ``segment-planet-scenes`` path against a bare batched forward pass; its peak memory.

Method, in one process, on generated PlanetScope scenes (``darts_preprocess.synthetic``: SR + udm2
scene folders, ArcticDEM 2 m and TCVIS 30 m GeoTIFF caches, read offline) and one small, randomly
initialised model (``encoder_weights=None``) using all ten PlanetScope bands:

- **command**: :func:`darts_segment.segment_planet_scenes`, the function the CLI command calls, from
  loading the model file and discovering the scenes to the last ``run.json``: reading SR and udm2,
  quality masks, DEM and TCVIS from the caches, band engineering (NDVI, TPI, slope, TCVIS),
  normalisation, tiling, inference, blending, and writing ``probabilities.tif``, ``binarized.tif``,
  ``polygons.gpkg``, ``extent.gpkg`` and ``run.json`` of every scene (``overwrite``: all redone).
- **bare**: a loop over the same tiles of the same scenes (normalised, padded and stacked in memory
  before the clock starts) through the same network object with the same precision and memory
  format: host-to-device copy, forward, sigmoid, copy back.
- The two alternate (bare, command, bare, command, ...) so that load from other jobs on a shared
  machine hits both; ratio = median(bare) / median(command) = command throughput / bare throughput.
- **breakdown**: the medians of the ``load_s`` / ``predict_s`` / ``write_s`` timings each scene's
  ``run.json`` records, and one instrumented pass of the same library functions splitting them
  further (scene read, DEM / TCVIS, band engineering; inference; rasters, polygons).
- **memory** (one scene in flight, ``dask_threads`` 1): the RSS high-water mark of the process
  during one command run (Linux ``VmHWM``, reset through ``/proc/self/clear_refs`` before the run)
  minus the RSS before it, and the peak of numpy / Python allocations (``tracemalloc``) during
  another run, each over the scene's float32 band stack (bands x height x width x 4 bytes). The RSS
  figure includes GDAL's block cache, torch's activations and the model; tracemalloc sees neither.

    uv run python benchmarks/segment_command.py --size 1024 --n-scenes 2 --repeats 3 --threads 1
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import platform
import shutil
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import torch

from darts_core.bands import normalize_bands
from darts_models import DeployableModelConfig, ModelSpec, build_model, save_deployable_checkpoint
from darts_models.inference import _origins, _padding_buffer, _reflect_in_place
from darts_models.predictor import TorchPredictor, resolve_precision
from darts_preprocess.engineering.derived_bands import engineer_bands
from darts_preprocess.engineering.model_input import (
    VALID_VAR,
    ModelInputSettings,
    aux_layers,
    load_model_input,
)
from darts_preprocess.scenes.sensors import PLANET, SENSORS
from darts_preprocess.synthetic.collections import generate_planet_collection
from darts_segment import SegmentPlanetConfig, segment_planet_scenes
from darts_segment.models import ModelChoice, load_models
from darts_segment.outputs import write_scene_outputs
from darts_segment.polygons import probability_polygons
from darts_segment.scene import InferenceOptions, segment_model_input

BANDS = SENSORS[PLANET].bands


def _model_file(folder: Path, arch: str, encoder: str, patch_size: int) -> Path:
    torch.manual_seed(0)
    net = build_model(arch, encoder, None, len(BANDS))
    config = DeployableModelConfig(
        input_combination=BANDS,
        model=ModelSpec(arch=arch, encoder_name=encoder, in_channels=len(BANDS)),
        norm_factors=dict.fromkeys(BANDS, 1 / 3000),
        name="bench",
        patch_size=patch_size,
    )
    return save_deployable_checkpoint(folder / "bench.pt", net.state_dict(), config)


def _tiles(scene: Any, predictor: TorchPredictor, patch: int, overlap: int) -> np.ndarray:
    """The normalised, reflection-padded tiles ``segment_scene`` cuts from this model input."""
    values = {b: np.asarray(scene[b].values) for b in BANDS}
    h, w = values[BANDS[0]].shape
    padded = _padding_buffer(len(BANDS), h, w, patch, overlap)
    inner = padded[:, overlap : overlap + h, overlap : overlap + w]
    inner[...] = normalize_bands(values, BANDS, factors=predictor.config.norm_factors)
    np.nan_to_num(inner, copy=False, nan=0.0)
    _reflect_in_place(padded, overlap, h, w)
    step = patch - overlap
    rows, cols = _origins(padded.shape[1], patch, step), _origins(padded.shape[2], patch, step)
    return np.stack([padded[:, r : r + patch, c : c + patch] for r in rows for c in cols])


def _bare(predictor: TorchPredictor, tiles: list[np.ndarray], batch: int, precision: str) -> None:
    device, model = predictor.device, predictor.network
    dtype = resolve_precision(precision, device)  # type: ignore[arg-type]
    fmt = torch.channels_last if (dtype is not None or device.type == "cuda") else torch.contiguous_format
    with (
        torch.inference_mode(),
        torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None),
    ):
        for scene_tiles in tiles:
            for i in range(0, len(scene_tiles), batch):
                x = torch.from_numpy(scene_tiles[i : i + batch]).to(device).contiguous(memory_format=fmt)
                torch.sigmoid(model(x).float())[:, 0].cpu().numpy()
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all threads of this process) of ``fn``."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - start, time.process_time() - cpu


def _status_kib(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def _rss_peak_over_start(fn: Callable[[], object]) -> int:
    """Bytes the RSS high-water mark rose above the RSS at the start of ``fn`` (Linux only)."""
    with contextlib.suppress(OSError):  # freed heap back to the OS: a fair starting RSS
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    start = _status_kib("VmRSS")
    fn()
    return (_status_kib("VmHWM") - start) * 1024


def _traced_peak(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def _breakdown(
    refs: list[Any], settings: ModelInputSettings, predictor: Any, options: InferenceOptions, out: Path
) -> dict[str, list[float]]:
    """Per step, summed over the scenes: wall and CPU seconds (a pass without tracing), and the peak
    of traced memory while it ran (a second pass with tracemalloc; what earlier steps still hold
    counts), calling the library functions the command calls in the order it calls them."""
    steps: dict[str, list[float]] = {}

    def one_pass(trace: bool) -> None:
        @contextmanager
        def clock(name: str) -> Iterator[None]:
            entry = steps.setdefault(name, [0.0, 0.0, 0.0])
            if trace:
                tracemalloc.reset_peak()
                yield
                entry[2] = max(entry[2], tracemalloc.get_traced_memory()[1])
                return
            start, cpu = time.perf_counter(), time.process_time()
            yield
            entry[0] += time.perf_counter() - start
            entry[1] += time.process_time() - cpu

        radii = float(settings.tpi_outer_radius), float(settings.tpi_inner_radius)
        for ref in refs:
            with clock("read scene + quality masks"):
                scene = SENSORS[PLANET].load(ref)
            with clock("read DEM + TCVIS caches"):
                dem, tcvis = aux_layers(scene, BANDS, settings)
            with clock("engineer bands"):
                engineer_bands(scene, dem, tcvis, BANDS, *radii)
            del scene, dem, tcvis
            with clock("load_model_input (the three above)"):
                model_input = load_model_input(ref, BANDS, settings)
            with clock("infer (normalise, tile, forward, blend)"):
                probs = segment_model_input(predictor, model_input, options, release_bands=True)
            values = np.asarray(probs.values, dtype=np.float32)
            valid = np.asarray(model_input[VALID_VAR].values)
            affine, crs = model_input.odc.geobox.affine, model_input.odc.geobox.crs.to_wkt()
            del model_input, probs
            with clock("write all outputs"):
                write_scene_outputs(out / ref.scene_id, ref.scene_id, values, valid, affine, crs)
            with clock("  of which polygons"):
                probability_polygons(np.where(valid, values, np.nan), affine, crs, options.threshold)
            del values, valid

    one_pass(trace=False)
    gc.collect()
    tracemalloc.start()
    one_pass(trace=True)
    tracemalloc.stop()
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024, help="scene height and width in pixels")
    parser.add_argument("--n-scenes", type=int, default=2)
    parser.add_argument("--patch-size", type=int, default=256)
    parser.add_argument("--overlap", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--arch", default="Unet")
    parser.add_argument("--encoder", default="tu-mobilenetv3_small_050")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each (after one warm-up)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--work-dir", type=Path, default=None, help="where scenes go (default: a temp dir)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory(dir=args.work_dir) as tmp_name:
        tmp = Path(tmp_name)
        collection = generate_planet_collection(
            tmp / "scenes", None, n_scenes=args.n_scenes, size_px=args.size
        )
        model_file = _model_file(tmp, args.arch, args.encoder, args.patch_size)
        out = tmp / "out"

        def config(overwrite: bool = True) -> SegmentPlanetConfig:
            return SegmentPlanetConfig(
                data_dir=collection.data_dir,
                arcticdem_dir=collection.arcticdem_dir,
                tcvis_dir=collection.tcvis_dir,
                offline=True,
                model_file=(model_file,),
                output_dir=out,
                patch_size=args.patch_size,
                overlap=args.overlap,
                batch_size=args.batch_size,
                segment_device=args.device,
                precision=args.precision,
                overwrite=overwrite,
            )

        records: list[dict[str, float]] = []

        def run_command() -> None:
            result = segment_planet_scenes(config(), progress=False)
            failed = result.with_status("failed")
            if failed:
                raise SystemExit(f"scene(s) failed: {[(s.scene_id, s.reason) for s in failed]}")

        def collect_timings() -> None:
            import json

            for path in sorted(out.glob("*/run.json")):
                records.append(json.loads(path.read_text())["timings"])

        choice = ModelChoice((model_file,), "torch", args.device, args.precision, "none")
        predictor = load_models(choice)
        assert isinstance(predictor, TorchPredictor)
        settings = ModelInputSettings(PLANET, collection.arcticdem_dir, collection.tcvis_dir, offline=True)
        refs = sorted(SENSORS[PLANET].discover(collection.data_dir).refs, key=lambda r: r.scene_id)
        inputs = [load_model_input(ref, BANDS, settings) for ref in refs]
        tiles = [_tiles(scene, predictor, args.patch_size, args.overlap) for scene in inputs]
        del inputs

        def run_bare() -> None:
            _bare(predictor, tiles, args.batch_size, args.precision)

        run_command()  # warm-up (imports, GDAL, first-touch) of both
        run_bare()
        times: dict[str, list[float]] = {"bare": [], "command": []}
        cpu: dict[str, list[float]] = {"bare": [], "command": []}
        for _ in range(args.repeats):
            for name, fn in (("bare", run_bare), ("command", run_command)):
                wall, used = _timed(fn)
                times[name].append(wall)
                cpu[name].append(used)
            collect_timings()
        n_polygons = sum(
            len(gpd.read_file(path, engine="pyogrio")) for path in sorted(out.glob("*/polygons.gpkg"))
        )

        options = InferenceOptions(args.patch_size, args.overlap, args.batch_size)
        steps = _breakdown(refs, settings, predictor, options, tmp / "instrumented")
        tiles.clear()  # not part of the memory runs below

        one = SegmentPlanetConfig(**(config().model_dump() | {"scene_ids": (refs[0].scene_id,)}))
        gc.collect()
        rss = _rss_peak_over_start(lambda: segment_planet_scenes(one, progress=False))
        traced = _traced_peak(lambda: segment_planet_scenes(one, progress=False))
        shutil.rmtree(out, ignore_errors=True)

    _print_report(
        args, str(predictor.device), {"wall": times, "cpu": cpu}, records, steps, n_polygons, (rss, traced)
    )


def _print_report(
    args: argparse.Namespace,
    device: str,
    clocks: dict[str, dict[str, list[float]]],
    records: list[dict[str, float]],
    steps: dict[str, list[float]],
    n_polygons: int,
    peaks: tuple[int, int],
) -> None:
    times, cpu = clocks["wall"], clocks["cpu"]
    med = {name: statistics.median(t) for name, t in times.items()}
    med_cpu = {name: statistics.median(t) for name, t in cpu.items()}
    pairs = [b / c for b, c in zip(times["bare"], times["command"], strict=True)]
    rss, traced = peaks
    step = args.patch_size - args.overlap
    side = len(_origins(args.size + 2 * args.overlap, args.patch_size, step))
    n_tiles = side * side
    print(f"# segment-planet-scenes (whole command) benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.processor() or platform.machine()}, torch threads {torch.get_num_threads()}, "
        f"device {device}, precision {args.precision}, torch {torch.__version__}"
    )
    print(
        f"{args.n_scenes} scene(s) of {args.size}x{args.size} px, {len(BANDS)} bands; {n_tiles} tiles of "
        f"{args.patch_size} px per scene (overlap {args.overlap}), batch {args.batch_size}; "
        f"{args.arch}/{args.encoder}; median of {args.repeats}, alternating"
    )
    for name, t in times.items():
        print(
            f"  {name:8s} {med[name]:8.3f} s wall ({', '.join(f'{x:.3f}' for x in t)}), "
            f"{med_cpu[name]:8.3f} s CPU ({', '.join(f'{x:.3f}' for x in cpu[name])})"
        )
    print(
        f"throughput command / bare forward: {med['bare'] / med['command']:.2f}x wall "
        f"(pairs {', '.join(f'{p:.2f}' for p in pairs)}), {med_cpu['bare'] / med_cpu['command']:.2f}x CPU; "
        "goal >= 0.8"
    )
    print(f"polygons written per run: {n_polygons} (a random network: a noisy map, many small regions)")
    print("run.json timings per scene (median):")
    for key in ("load_s", "predict_s", "write_s"):
        print(f"  {key:10s} {statistics.median(r[key] for r in records):7.3f} s")
    stack = len(BANDS) * args.size * args.size * 4
    print(f"instrumented pass over the {args.n_scenes} scene(s): wall s, CPU s, traced peak / band stack")
    for name, (wall, used, peak) in steps.items():
        print(f"  {name:42s} {wall:7.3f} {used:7.3f}  {peak / stack:5.2f}x")
    print(
        f"peak memory of one scene / float32 band stack ({stack / 2**20:.1f} MiB): "
        f"RSS high-water {rss / stack:.2f}x ({rss / 2**20:.1f} MiB), "
        f"tracemalloc {traced / stack:.2f}x ({traced / 2**20:.1f} MiB); goal <= 3"
    )


if __name__ == "__main__":
    main()
