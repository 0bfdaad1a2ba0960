"""Steady-state training step of train-smp against a bare torch loop, measured in pairs.

Method (paired steps): darts_train's LightningModule runs under a Trainer with train-smp's settings
(precision and channels_last as train-smp resolves them for the device, train metrics, loss logging,
CSV logger). After each of its training batches a callback runs one step of a bare torch loop on its
own copy of the model (same model, loss, optimizer, precision and memory format; its own loader over
the same synthetic in-memory data, no disk reads). Both steps are timed back to back in one process:

- the Lightning step from the end of the previous bare step to its own batch end (data fetch, hooks,
  forward, loss, backward, optimizer, metrics, logging);
- the bare step from there to its end (data fetch, forward, loss, backward, optimizer).

Each pair gives a ratio bare time / Lightning time (= Lightning throughput / bare throughput); the
median over pairs is reported, so load that drifts on a shared machine hits both sides of each pair.
The first ``--warmup`` pairs are dropped.

A second paired run swaps the Lightning side for the reference tool's settings (fp32, no channels_last)
against the same bare loop (train-smp's settings); train-smp / reference is the ratio of the two medians,
both anchored to that bare step.

    uv run python benchmarks/train_step.py --device auto --encoder resnet34 --patch-size 512
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import dataclass, field
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


class _BareStep:
    """One step of a plain torch loop per call: same model, loss, optimizer, precision and memory format."""

    def __init__(
        self, args: argparse.Namespace, hw: TrainerDevices, data: Dataset, device: torch.device
    ) -> None:
        task = _task(args, hw.channels_last).to(device)
        self.model, self.loss_fn, self.device = task.model, task.loss_fn, device
        self.model.train()
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=task.hparams.learning_rate)
        self.bf16 = hw.precision.startswith("bf16")
        self.memory_format = torch.channels_last if hw.channels_last else torch.contiguous_format
        self.batches = iter(_loader(args, data))

    def __call__(self) -> None:
        batch = next(self.batches)
        x = batch["x"].to(self.device, non_blocking=True).contiguous(memory_format=self.memory_format)
        y = batch["y"].to(self.device, non_blocking=True)
        # explicit enabled flag: the bare step's precision holds whatever context the Trainer runs it in
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            loss = self.loss_fn(self.model(x).squeeze(1), y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()


@dataclass
class _Pairs:
    """Per-step seconds of the Lightning step and of the bare step that follows it."""

    lightning: list[float] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)

    def dropping(self, warmup: int) -> _Pairs:
        return _Pairs(self.lightning[warmup:], self.bare[warmup:])

    def ratio(self) -> float:
        """Median per-pair bare time / Lightning time (Lightning throughput / bare throughput)."""
        return statistics.median(b / lt for lt, b in zip(self.lightning, self.bare, strict=True))


class _PairedClock(L.Callback):
    """After each Lightning batch, time it and run and time one bare step."""

    def __init__(self, bare: _BareStep, device: torch.device) -> None:
        self.bare, self.device = bare, device
        self.pairs = _Pairs()
        self.mark = 0.0

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        _sync(self.device)
        self.mark = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        _sync(self.device)
        lightning_end = time.perf_counter()
        self.bare()
        _sync(self.device)
        bare_end = time.perf_counter()
        self.pairs.lightning.append(lightning_end - self.mark)
        self.pairs.bare.append(bare_end - lightning_end)
        self.mark = bare_end


def paired_run(
    args: argparse.Namespace, lightning_hw: TrainerDevices, bare_hw: TrainerDevices, data: Dataset
) -> _Pairs:
    """Per-step times of train-smp under ``lightning_hw``, each paired with a bare step under ``bare_hw``."""
    device = _device(bare_hw)
    clock = _PairedClock(_BareStep(args, bare_hw, data, device), device)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = L.Trainer(
            accelerator=lightning_hw.accelerator,
            devices=lightning_hw.devices,
            precision=lightning_hw.precision,
            max_epochs=1,
            limit_train_batches=args.warmup + args.steps,
            limit_val_batches=0,
            log_every_n_steps=args.log_every_n_steps,
            logger=RunCSVLogger(Path(tmp), "bench", "bench"),
            callbacks=[clock],
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            benchmark=lightning_hw.on_gpu,
        )
        trainer.fit(_task(args, lightning_hw.channels_last), train_dataloaders=_loader(args, data))
    return clock.pairs.dropping(args.warmup)


def _device(hw: TrainerDevices) -> torch.device:
    if not hw.on_gpu:
        return torch.device("cpu")
    return torch.device(f"cuda:{hw.devices[0] if isinstance(hw.devices, list) else 0}")


def _ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:8.1f} ms"


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto, cpu or a GPU index")
    parser.add_argument(
        "--precision",
        default="auto",
        help="train-smp's precision (auto, 32, bf16-mixed): force bf16 to see its cost on a CPU without it",
    )
    parser.add_argument("--arch", default="Unet")
    parser.add_argument("--encoder", default="resnet18")
    parser.add_argument("--bands", type=int, default=10)
    parser.add_argument("--patch-size", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=30, help="timed pairs after the warm-up")
    parser.add_argument("--warmup", type=int, default=3, help="pairs dropped at the start")
    parser.add_argument("--log-every-n-steps", type=int, default=10)
    parser.add_argument("--no-reference", action="store_true", help="skip the fp32/NCHW reference run")
    return parser.parse_args()


def main() -> None:
    args = _parse_args()
    devices = int(args.device) if args.device.isdigit() else args.device
    hw = resolve_trainer_devices("auto", devices, args.precision)
    reference = resolve_trainer_devices("auto", devices, "32")
    reference = TrainerDevices(reference.accelerator, reference.devices, "32-true", channels_last=False)
    device = _device(hw)
    data = _Synthetic((args.warmup + args.steps) * args.batch_size, args.bands, args.patch_size)
    name = torch.cuda.get_device_name(device) if hw.on_gpu else f"CPU ({torch.get_num_threads()} threads)"
    print(f"{name}; {args.arch}/{args.encoder}, batch {args.batch_size} x {args.bands} x {args.patch_size}^2")
    print(f"train-smp settings: precision {hw.precision}, channels_last {hw.channels_last}")
    print(f"paired steps: {args.steps} timed pairs after {args.warmup} warm-up; medians per step")
    smp = paired_run(args, hw, hw, data)
    print(f"train-smp step            {_ms(smp.lightning)}")
    print(f"bare torch step           {_ms(smp.bare)}")
    print(f"train-smp / bare          {smp.ratio():8.3f}  (throughput, median per pair; goal >= 0.9)")
    if args.no_reference:
        return
    ref = paired_run(args, reference, hw, data)
    print(f"reference (fp32, NCHW)    {_ms(ref.lightning)}  (paired bare step {_ms(ref.bare).strip()})")
    print(f"reference / bare          {ref.ratio():8.3f}")
    print(f"train-smp / reference     {smp.ratio() / ref.ratio():8.3f}  (ratio of the two paired medians)")


if __name__ == "__main__":
    main()
