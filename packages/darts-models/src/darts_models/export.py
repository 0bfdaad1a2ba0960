"""``export_model``: a deployable model (or train-smp checkpoint) -> ONNX or TorchScript + JSON sidecar.

The exported graph maps float32 ``patches [batch, bands, height, width]`` (normalised as the
sidecar says) to float32 ``probabilities [batch, height, width]`` (sigmoid applied), so users of
onnxruntime or ``torch.jit.load`` need nothing from darts. Both files are written atomically
(temp name in the same folder, then ``os.replace``; the sidecar last). The export is checked
against the torch model at a second, larger patch size before anything is written.
"""

from __future__ import annotations

import copy
import errno
import logging
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import torch
from torch import nn

from darts_core.atomic import atomic_path, write_atomically
from darts_core.errors import DartsError, DartsInputError
from darts_models.checkpoint import DeployableModelConfig
from darts_models.errors import CheckpointExistsError, ExportError
from darts_models.loading import file_sha256, load_torch_model
from darts_models.predictor import band_encodings
from darts_models.sidecar import ExportFormat, ExportSidecar, TensorSpec, sidecar_path

logger = logging.getLogger(__name__)

SUFFIXES: dict[str, str] = {"onnx": ".onnx", "torchscript": ".pt"}
INPUT_NAME = "patches"
OUTPUT_NAME = "probabilities"
OPSET = 18
TOLERANCE = 1e-4
"""Largest allowed absolute difference between exported and torch probabilities."""


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_model` wrote."""

    path: Path
    """The exported model file."""
    sidecar_path: Path
    """Its JSON sidecar (``<path>.json``)."""
    sidecar: ExportSidecar
    """The sidecar's content."""
    max_abs_diff: float
    """Largest |exported - torch| probability on the check patches."""


class ProbabilityHead(nn.Module):
    """``sigmoid(net(x))[:, 0]``: the exported graph returns probabilities ``[N, H, W]``."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(x))[:, 0]


def _spatial_multiple(net: nn.Module) -> int:
    encoder = getattr(net, "encoder", None)
    stride = getattr(encoder, "output_stride", None)
    return int(stride) if isinstance(stride, int) and stride > 0 else 32


def _default_output(model_file: Path, fmt: ExportFormat) -> Path:
    return model_file.with_suffix(SUFFIXES[fmt])


def _export_onnx(head: nn.Module, example: torch.Tensor, tmp: Path) -> None:
    dyn = {0: "batch", 2: "height", 3: "width"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript-based exporter is noisy about tracing
        torch.onnx.export(
            head,
            (example,),
            str(tmp),
            dynamo=False,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: dyn, OUTPUT_NAME: {0: "batch", 1: "height", 2: "width"}},
            opset_version=OPSET,
            do_constant_folding=True,
        )


def _export_torchscript(head: nn.Module, example: torch.Tensor, tmp: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(head, (example,), check_trace=False)
        torch.jit.save(traced, str(tmp))


def _run_onnx(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    from darts_models.onnx_runtime import import_onnxruntime

    ort = import_onnxruntime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda x: session.run([OUTPUT_NAME], {INPUT_NAME: x})[0]


def _run_torchscript(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated in favour of torch.export
        module = torch.jit.load(str(path), map_location="cpu").eval()

    def run(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return module(torch.from_numpy(x)).numpy()

    return run


def _check(
    head: nn.Module, run: Callable[[np.ndarray], np.ndarray], inputs: list[np.ndarray]
) -> tuple[float, float]:
    """Max |exported - torch| over ``inputs``, and the difference allowed: :data:`TOLERANCE`, or twice
    torch's own float32 rounding error (against a float64 copy) where that is larger — a trained
    network's float32 forward pass can itself be off by a few 1e-4 in probability."""
    worst = fp32_error = 0.0
    exact = copy.deepcopy(head).double()
    for x in inputs:
        with torch.inference_mode():
            expected = head(torch.from_numpy(x)).numpy()
            reference = exact(torch.from_numpy(x).double()).numpy()
        got = run(x)
        if got.shape != expected.shape:
            raise ExportError(
                f"exported output has shape {got.shape} for input {x.shape}; torch gives {expected.shape}"
            )
        worst = max(worst, float(np.max(np.abs(got - expected))))
        fp32_error = max(fp32_error, float(np.max(np.abs(expected - reference))))
    return worst, max(TOLERANCE, 2 * fp32_error)


def _sidecar(
    config: DeployableModelConfig, fmt: ExportFormat, multiple: int, model_file: Path, sha: str
) -> ExportSidecar:
    bands = list(config.input_combination)
    return ExportSidecar(
        format=fmt,
        name=config.name,
        bands=bands,
        encodings=band_encodings(bands),
        norm_factors={b: float(config.norm_factors[b]) for b in bands},
        patch_size=config.patch_size,
        spatial_multiple=multiple,
        dynamic_axes=["batch", "height", "width"],
        input=TensorSpec(name=INPUT_NAME, shape=["batch", len(bands), "height", "width"]),
        output=TensorSpec(name=OUTPUT_NAME, shape=["batch", "height", "width"]),
        model=config.model.model_dump(mode="json"),
        source_model={"path": str(model_file), "sha256": sha},
        darts_version=metadata.version("darts-models"),
        opset=OPSET if fmt == "onnx" else None,
        config=config.to_plain(),
    )


def export_model(
    model_file: str | os.PathLike[str],
    out_path: str | os.PathLike[str] | None = None,
    format: ExportFormat = "onnx",
    patch_size: int | None = None,
    *,
    overwrite: bool = False,
) -> ExportResult:
    """Export ``model_file`` (deployable file or train-smp checkpoint) to ``format``.

    ``out_path`` defaults to the model file's name with ``.onnx`` / ``.pt``; the sidecar is
    ``<out_path>.json``. ``patch_size`` (default: the model's training patch size, else 256) is the
    example input size; batch, height and width stay dynamic, and the export is checked at
    ``patch_size`` and ``patch_size + spatial_multiple`` against torch (max |difference| <=
    :data:`TOLERANCE`, or twice torch's own float32 error against float64 where that is larger).
    Raises :class:`ExportError` naming the architecture and format when the
    export fails or disagrees, :class:`CheckpointExistsError` when ``out_path`` exists and not
    ``overwrite``.
    """
    if format not in SUFFIXES:
        raise DartsInputError(f"format must be 'onnx' or 'torchscript', got {format!r}")
    model_file = Path(model_file)
    out = Path(out_path) if out_path is not None else _default_output(model_file, format)
    if out.exists() and not overwrite:
        raise CheckpointExistsError(f"{out} already exists; choose another --output or pass --overwrite")
    loaded = load_torch_model(model_file, "cpu")
    config, spec = loaded.config, loaded.config.model
    head = ProbabilityHead(loaded.model.float()).eval()
    multiple = _spatial_multiple(loaded.model)
    size = patch_size or config.patch_size or 256
    if size % multiple:
        raise DartsInputError(
            f"patch_size {size} must be a multiple of {multiple} for {spec.arch}/{spec.encoder_name}"
        )
    rng = np.random.default_rng(0)
    c = spec.in_channels
    checks = [
        rng.random((2, c, size, size), dtype=np.float32),
        rng.random((1, c, size + multiple, size + 2 * multiple), dtype=np.float32),
    ]
    what = f"{spec.arch}/{spec.encoder_name} to {format}"
    with atomic_path(out) as tmp:
        try:
            if format == "onnx":
                _export_onnx(head, torch.from_numpy(checks[0]), tmp)
                run = _run_onnx(tmp)
            else:
                _export_torchscript(head, torch.from_numpy(checks[0]), tmp)
                run = _run_torchscript(tmp)
            diff, allowed = _check(head, run, checks)
        except DartsError:
            raise
        except Exception as err:  # exporters raise many types (UnsupportedOperatorError, RuntimeError, ...)
            if isinstance(err, OSError) and err.errno == errno.ENOSPC:
                raise  # atomic_path reports the full disk
            first_line = (str(err).strip().splitlines() or [""])[0][:400]
            raise ExportError(f"cannot export {what}: {type(err).__name__}: {first_line}") from err
        if diff > allowed:
            raise ExportError(
                f"the export of {what} disagrees with torch by {diff:.2e} (> {allowed:.2g}) on "
                f"{size}x{size} / {size + multiple}x{size + 2 * multiple} patches; this architecture is "
                "not exportable with dynamic shapes"
            )
        sidecar = _sidecar(config, format, multiple, model_file, file_sha256(model_file))
    side = sidecar_path(out)
    text = sidecar.model_dump_json(indent=2) + "\n"
    write_atomically(side, lambda fh: fh.write(text.encode()))
    logger.info("exported %s -> %s (+ %s), max |diff| %.2e", model_file, out, side.name, diff)
    return ExportResult(path=out, sidecar_path=side, sidecar=sidecar, max_abs_diff=diff)
