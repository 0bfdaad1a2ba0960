"""Steady-state training throughput of train-smp's step against a bare torch loop.

Three measurements on the same model, batch and synthetic in-memory data (no disk reads):

1. ``train-smp``: darts_train's LightningModule and Trainer settings (precision and channels_last as
   train-smp resolves them for the device, train metrics, loss logging, CSV logger);
2. ``bare``: a plain torch loop with the same model, precision, channels_last, loss and optimizer;
3. ``reference``: the train-smp step in fp32 without channels_last (the reference tool's settings).

Prints samples/s and the ratios train-smp / bare (goal >= 0.9) and train-smp / reference.

    uv run python benchmarks/train_step.py --device auto --encoder resnet34 --patch-size 512
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from darts_train.hardware import TrainerDevices, resolve_trainer_devices
from darts_train.loggers import RunCSVLogger
from darts_train.module import SegmentationTask


class _Synthetic(Dataset):
    """``n`` fixed random patches (x in [0, 1], y in {0, 1, 2}) held in memory."""

    def __init__(self, n: int, bands: int, size: int, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(seed)
        self.x = torch.rand(n, bands, size, size, generator=g)
        self.y = torch.randint(0, 3, (n, size, size), generator=g)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"x": self.x[i], "y": self.y[i], "index": i}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class _Clock(L.Callback):
    """Time from the end of batch ``warmup`` to the end of the last batch."""

    def __init__(self, warmup: int, device: torch.device) -> None:
        self.warmup, self.device = warmup, device
        self.start = self.end = 0.0
        self.batches = 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        _sync(self.device)
        if batch_idx == self.warmup - 1:
            self.start = time.perf_counter()
        self.end = time.perf_counter()
        self.batches = batch_idx + 1


def _task(args: argparse.Namespace, channels_last: bool) -> SegmentationTask:
    torch.manual_seed(0)
    bands = [f"b{i}" for i in range(args.bands)]
    return SegmentationTask(
        model_arch=args.arch,
        model_encoder=args.encoder,
        model_encoder_weights=None,
        bands=bands,
        norm_factors=dict.fromkeys(bands, 1.0),
        fold=0,
        channels_last=channels_last,
    )


def _loader(args: argparse.Namespace, data: Dataset) -> DataLoader:
    return DataLoader(data, batch_size=args.batch_size, shuffle=True, num_workers=0, drop_last=True)


def lightning_step(
    args: argparse.Namespace, hw: TrainerDevices, data: Dataset, device: torch.device
) -> float:
    """Samples/s of train-smp's training step (Lightning, metrics, logging)."""
    clock = _Clock(args.warmup, device)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = L.Trainer(
            accelerator=hw.accelerator,
            devices=hw.devices,
            precision=hw.precision,
            max_epochs=1,
            limit_train_batches=args.warmup + args.steps,
            limit_val_batches=0,
            log_every_n_steps=args.log_every_n_steps,
            logger=RunCSVLogger(Path(tmp), "bench", "bench"),
            callbacks=[clock],
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            benchmark=hw.on_gpu,
        )
        trainer.fit(_task(args, hw.channels_last), train_dataloaders=_loader(args, data))
    return (clock.batches - args.warmup) * args.batch_size / (clock.end - clock.start)


def bare_loop(args: argparse.Namespace, hw: TrainerDevices, data: Dataset, device: torch.device) -> float:
    """Samples/s of a plain torch loop: same model, loss, optimizer, precision and memory format."""
    task = _task(args, hw.channels_last).to(device)
    model, loss_fn = task.model, task.loss_fn
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    bf16 = hw.precision.startswith("bf16")
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    memory_format = torch.channels_last if hw.channels_last else torch.contiguous_format
    start, n = 0.0, 0
    for i, batch in enumerate(_loader(args, data)):
        if i == args.warmup + args.steps:
            break
        x = batch["x"].to(device, non_blocking=True).contiguous(memory_format=memory_format)
        y = batch["y"].to(device, non_blocking=True)
        with autocast:
            loss = loss_fn(model(x).squeeze(1), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if i == args.warmup - 1:
            _sync(device)
            start = time.perf_counter()
        n = i + 1
    _sync(device)
    return (n - args.warmup) * args.batch_size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto, cpu or a GPU index")
    parser.add_argument("--arch", default="Unet")
    parser.add_argument("--encoder", default="resnet18")
    parser.add_argument("--bands", type=int, default=10)
    parser.add_argument("--patch-size", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20, help="timed steps after the warm-up")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--log-every-n-steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats; medians are printed")
    args = parser.parse_args()
    devices = int(args.device) if args.device.isdigit() else args.device
    hw = resolve_trainer_devices("auto", devices, "auto")
    reference = resolve_trainer_devices("auto", devices, "32")
    reference = TrainerDevices(reference.accelerator, reference.devices, "32-true", channels_last=False)
    device = torch.device(
        f"cuda:{hw.devices[0] if isinstance(hw.devices, list) else 0}" if hw.on_gpu else "cpu"
    )
    data = _Synthetic((args.warmup + args.steps) * args.batch_size, args.bands, args.patch_size)
    name = torch.cuda.get_device_name(device) if hw.on_gpu else f"CPU ({torch.get_num_threads()} threads)"
    print(f"{name}; {args.arch}/{args.encoder}, batch {args.batch_size} x {args.bands} x {args.patch_size}^2")
    print(f"train-smp settings: precision {hw.precision}, channels_last {hw.channels_last}")
    rates: dict[str, list[float]] = {"smp": [], "bare": [], "ref": []}
    for _ in range(args.repeats):  # interleaved, so drifting load on a shared machine hits all three
        rates["smp"].append(lightning_step(args, hw, data, device))
        rates["bare"].append(bare_loop(args, hw, data, device))
        rates["ref"].append(lightning_step(args, reference, data, device))
    smp_rate, bare_rate, ref_rate = (statistics.median(rates[k]) for k in ("smp", "bare", "ref"))
    print(f"median of {args.repeats} interleaved repeats")
    print(f"train-smp step            {smp_rate:8.2f} samples/s")
    print(f"bare torch loop           {bare_rate:8.2f} samples/s")
    print(f"reference (fp32, NCHW)    {ref_rate:8.2f} samples/s")
    print(f"train-smp / bare          {smp_rate / bare_rate:8.3f}  (goal >= 0.9)")
    print(f"train-smp / reference     {smp_rate / ref_rate:8.3f}")


if __name__ == "__main__":
    main()
