"""Whole-scene inference against a bare batched forward pass; memory per scene; TTA and ensemble cost.

Method, in one process with one synthetic scene (physical band values, float32) and one model:

- **throughput**: ``darts_models.segment_scene`` (normalisation, reflection padding, patch
  extraction, batched forward through the predictor, blending, NaN handling, georeferenced result)
  against a bare loop over the same tiles (already normalised, padded and stacked in memory before
  timing: only host-to-device copy, forward with the same precision and memory format, sigmoid,
  copy back). Runs alternate (bare, scene, bare, scene, ...) so drifting load on a shared machine
  hits both; the ratio is median(bare) / median(scene) = scene throughput / bare throughput.
  Reading rasters, band engineering and writing outputs belong to the deploy package and are not
  part of this measurement.
- **memory**: peak of numpy / Python allocations (``tracemalloc``) during one ``segment_scene``
  call, over the scene's float32 band stack (bands x height x width x 4 bytes). Model weights and
  torch's per-batch activations (independent of the scene size) are not traced. Measured twice:
  with the real model at ``--size`` (where one batch of patches may weigh as much as a small
  scene), and at ``--memory-size`` with a predictor that returns a constant (no forward pass, so
  a large scene is cheap), which shows the part that grows with the scene.
- **TTA / ensemble**: median time of ``segment_scene`` with flip TTA, and with a 3-model ensemble,
  over one pass of one model.

    uv run python benchmarks/segment_scene.py --size 1024 --patch-size 256 --device auto
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from darts_models import (
    DeployableModelConfig,
    ModelSpec,
    TorchPredictor,
    build_model,
    load_predictor,
    save_deployable_checkpoint,
    segment_scene,
)
from darts_models.inference import _origins
from darts_models.predictor import resolve_device, resolve_precision

BANDS = ("blue", "green", "red", "nir")


def _scene(size: int) -> xr.Dataset:
    rng = np.random.default_rng(0)
    coords = {"y": 7_000_000 - 3.0 * np.arange(size), "x": 500_000 + 3.0 * np.arange(size)}
    data = {b: (("y", "x"), rng.uniform(100, 3000, (size, size)).astype(np.float32)) for b in BANDS}
    return xr.Dataset(data, coords=coords)


def _model_files(folder: Path, arch: str, encoder: str, n: int) -> list[Path]:
    files = []
    for seed in range(n):
        torch.manual_seed(seed)
        net = build_model(arch, encoder, None, len(BANDS))
        config = DeployableModelConfig(
            input_combination=BANDS,
            model=ModelSpec(arch=arch, encoder_name=encoder, in_channels=len(BANDS)),
            norm_factors=dict.fromkeys(BANDS, 1 / 3000),
            name=f"bench{seed}",
        )
        files.append(save_deployable_checkpoint(folder / f"m{seed}.ckpt", net.state_dict(), config))
    return files


def _tiles(scene: xr.Dataset, patch: int, overlap: int) -> np.ndarray:
    x = np.stack([np.clip(scene[b].values / 3000.0, 0, 1) for b in BANDS]).astype(np.float32)
    padded = np.pad(x, ((0, 0), (overlap, overlap), (overlap, overlap)), mode="reflect")
    step = patch - overlap
    rows, cols = _origins(padded.shape[1], patch, step), _origins(padded.shape[2], patch, step)
    return np.stack([padded[:, r : r + patch, c : c + patch] for r in rows for c in cols])


def _bare(
    model: torch.nn.Module, tiles: np.ndarray, batch: int, device: torch.device, precision: str
) -> None:
    dtype = resolve_precision(precision, device)  # type: ignore[arg-type]
    fmt = torch.channels_last if (dtype is not None or device.type == "cuda") else torch.contiguous_format
    with (
        torch.inference_mode(),
        torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None),
    ):
        for i in range(0, len(tiles), batch):
            x = torch.from_numpy(tiles[i : i + batch]).to(device).contiguous(memory_format=fmt)
            torch.sigmoid(model(x).float())[:, 0].cpu().numpy()


def _timed(fn: Callable[[], object], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


class _Constant:
    """A predictor without a network: the memory of scene inference itself."""

    def __init__(self, config: DeployableModelConfig) -> None:
        self.config = config

    def predict_patches(self, patches: np.ndarray) -> np.ndarray:
        return np.full((len(patches), *patches.shape[-2:]), 0.5, dtype=np.float32)


def _peak_memory(predictor: object, scene: xr.Dataset, kw: dict[str, int]) -> int:
    tracemalloc.start()
    segment_scene(predictor, scene, **kw)  # type: ignore[arg-type]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024, help="scene height and width in pixels")
    parser.add_argument("--patch-size", type=int, default=256)
    parser.add_argument("--overlap", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--arch", default="Unet")
    parser.add_argument("--encoder", default="tu-mobilenetv3_small_050")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed runs of each variant (after one warm-up)"
    )
    parser.add_argument("--memory-size", type=int, default=2048, help="scene side of the memory-only run")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    scene = _scene(args.size)
    kw = {"patch_size": args.patch_size, "overlap": args.overlap, "batch_size": args.batch_size}

    with tempfile.TemporaryDirectory() as tmp:
        files = _model_files(Path(tmp), args.arch, args.encoder, 3)
        opts = {"device": device, "precision": args.precision}
        one = load_predictor(files[:1], **opts)
        tta = load_predictor(files[:1], tta="flips", **opts)
        ens = load_predictor(files, **opts)
    assert isinstance(one, TorchPredictor)
    bare_model = one.network  # the same network object, device and memory format
    tiles = _tiles(scene, args.patch_size, args.overlap)

    def run_bare() -> None:
        _bare(bare_model, tiles, args.batch_size, device, args.precision)

    runs: dict[str, Callable[[], object]] = {
        "bare": run_bare,
        "scene": lambda: segment_scene(one, scene, **kw),
        "tta": lambda: segment_scene(tta, scene, **kw),
        "ensemble3": lambda: segment_scene(ens, scene, **kw),
    }
    for fn in runs.values():  # warm-up
        fn()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, fn in runs.items():
            times[name].append(_timed(fn, device))
    med = {name: statistics.median(t) for name, t in times.items()}

    peak = _peak_memory(one, scene, kw)
    stack = len(BANDS) * args.size * args.size * 4
    big_stack = len(BANDS) * args.memory_size**2 * 4
    big_peak = _peak_memory(_Constant(one.config), _scene(args.memory_size), kw)

    print(f"# segment_scene benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.processor() or platform.machine()}, torch threads {torch.get_num_threads()}, "
        f"device {device}, precision {args.precision}, torch {torch.__version__}"
    )
    print(
        f"scene {args.size}x{args.size} px, {len(BANDS)} bands; {len(tiles)} tiles of {args.patch_size} px "
        f"(overlap {args.overlap}), batch {args.batch_size}; {args.arch}/{args.encoder}; "
        f"median of {args.repeats}"
    )
    for name, t in med.items():
        print(f"  {name:10s} {t:8.3f} s   ({', '.join(f'{x:.3f}' for x in times[name])})")
    print(f"throughput segment_scene / bare forward: {med['bare'] / med['scene']:.2f}x (goal >= 0.8)")
    print(
        f"peak traced memory / float32 band stack: {peak / stack:.2f}x "
        f"({peak / 2**20:.1f} MiB / {stack / 2**20:.1f} MiB; goal <= 3)"
    )
    print(
        f"  without forward pass at {args.memory_size} px: {big_peak / big_stack:.2f}x "
        f"({big_peak / 2**20:.1f} MiB / {big_stack / 2**20:.1f} MiB)"
    )
    print(f"flip TTA / one pass: {med['tta'] / med['scene']:.2f}x (goal <= 4.3)")
    print(f"3-model ensemble / one model: {med['ensemble3'] / med['scene']:.2f}x (goal <= 3.2)")


if __name__ == "__main__":
    main()
