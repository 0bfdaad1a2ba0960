"""Device and precision choices: user-facing ``devices`` / ``device`` values to Lightning and torch ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import torch

from darts_core.errors import DartsInputError
from darts_models.cpu_features import cpu_has_native_bf16

if TYPE_CHECKING:
    from darts_train.config import Precision

_GPU = ("gpu", "cuda")
TrainerPrecision = Literal["32-true", "16-mixed", "bf16-mixed"]
"""The ``precision`` values darts passes to ``lightning.Trainer``."""


@dataclass(frozen=True)
class TrainerDevices:
    """Arguments for ``lightning.Trainer``."""

    accelerator: str
    devices: int | list[int] | str
    precision: TrainerPrecision
    channels_last: bool

    @property
    def on_gpu(self) -> bool:
        return self.accelerator in _GPU

    @property
    def n_processes(self) -> int:
        """Training processes on this machine (GPUs listed, or CPU processes)."""
        if isinstance(self.devices, list):
            return len(self.devices)
        return self.devices if isinstance(self.devices, int) else 1


def _accelerator_and_devices(accelerator: str, devices: int | list[int] | str) -> tuple[str, int | list[int]]:
    if accelerator == "cpu" and isinstance(devices, list) and len(devices) > 1:
        return "cpu", len(devices)  # one process per listed device: DDP over gloo
    if devices == "cpu" or accelerator == "cpu":
        return "cpu", 1
    if accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
        raise DartsInputError(f"accelerator={accelerator} but torch sees no CUDA device; use cpu or auto")
    if accelerator == "mps" and not torch.backends.mps.is_available():
        raise DartsInputError("accelerator=mps but torch sees no Apple GPU (MPS); use cpu or auto")
    if isinstance(devices, int | list):
        indices = [devices] if isinstance(devices, int) else list(devices)
        if accelerator == "auto" and not torch.cuda.is_available():
            raise DartsInputError(
                f"devices={devices!r} names GPU(s) but torch sees no CUDA device; use cpu or auto"
            )
        return ("gpu" if accelerator == "auto" else accelerator), indices
    if accelerator == "auto":
        return ("gpu", 1) if torch.cuda.is_available() else ("cpu", 1)
    return accelerator, 1


def _bf16_ok(accelerator: str) -> bool:
    if accelerator == "cpu":
        return cpu_has_native_bf16()
    return accelerator in _GPU and torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def resolve_trainer_devices(
    accelerator: str, devices: int | list[int] | str, precision: Precision
) -> TrainerDevices:
    """Lightning accelerator / devices / precision for a train config.

    ``devices``: a GPU index (``0`` = cuda:0, unlike Lightning where an int counts devices), a
    list of indices, ``cpu`` or ``auto`` (one device: the first GPU if any, else the CPU).
    ``precision="auto"`` is bf16-mixed on GPUs that support it and on CPUs that compute bf16 natively
    (AVX512-BF16 or AMX; :func:`darts_models.cpu_features.cpu_has_native_bf16`), else 32-bit.
    channels_last is used on GPUs and with bf16 on the CPU (where oneDNN's bf16 convolutions want it).
    """
    acc, devs = _accelerator_and_devices(accelerator, devices)
    resolved: TrainerPrecision
    if precision == "auto":
        resolved = "bf16-mixed" if _bf16_ok(acc) else "32-true"
    else:
        resolved = "32-true" if precision == "32" else precision
    channels_last = acc in _GPU or (acc == "cpu" and resolved == "bf16-mixed")
    return TrainerDevices(accelerator=acc, devices=devs, precision=resolved, channels_last=channels_last)


def torch_device(device: int | str) -> torch.device:
    """A torch device from a GPU index, ``cpu``, ``auto`` or a torch device string (``cuda:1``)."""
    if isinstance(device, int) or (isinstance(device, str) and device.isdigit()):
        return torch.device(f"cuda:{int(device)}")
    if device == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except RuntimeError as err:
        raise DartsInputError(
            f"device={device!r} is not a GPU index, cpu, auto or a torch device string"
        ) from err
