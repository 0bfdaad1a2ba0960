"""``OnnxPredictor``: an exported ONNX model run by onnxruntime (optional extra ``darts-models[onnx]``)."""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path
from types import ModuleType

import numpy as np

from darts_core.errors import CheckpointError, DartsError, DartsInputError
from darts_models.checkpoint import DeployableModelConfig
from darts_models.errors import CheckpointNotFoundError
from darts_models.predictor import DescribedModel, ModelSource
from darts_models.sidecar import read_sidecar

logger = logging.getLogger(__name__)

ONNX_EXTRA_HINT = (
    "install the optional extra darts-models[onnx] "
    "(`uv sync --extra onnx` in darts-models, or `pip install 'darts-models[onnx]'`)"
)


def import_onnxruntime() -> ModuleType:
    """``onnxruntime``, or a :class:`DartsError` naming the extra that installs it."""
    try:
        return importlib.import_module("onnxruntime")  # ships no type information
    except ImportError as err:
        raise DartsError(f"the onnx runtime needs the package onnxruntime; {ONNX_EXTRA_HINT}") from err


def _providers(ort: ModuleType, device: str) -> list[str | tuple[str, dict[str, int]]]:
    available = ort.get_available_providers()
    if device.startswith("cuda") and "CUDAExecutionProvider" in available:
        index = int(device.split(":", 1)[1]) if ":" in device else 0
        return [("CUDAExecutionProvider", {"device_id": index}), "CPUExecutionProvider"]
    if device.startswith("cuda"):
        logger.warning("onnxruntime has no CUDA provider here (%s); running on the CPU", available)
    return ["CPUExecutionProvider"]


class OnnxPredictor(DescribedModel):
    """An ONNX file exported by :func:`darts_models.export.export_model` and its JSON sidecar.

    ``device``: ``cpu`` or ``cuda:N`` (CUDA needs the onnxruntime-gpu build). The graph computes fp32.
    The sidecar's encodings must equal darts' band registry (else the scene would be normalised
    differently from what the model was trained on).
    """

    def __init__(self, path: str | os.PathLike[str], device: str = "cpu", threads: int | None = None) -> None:
        path = Path(path)
        if not path.is_file():
            raise CheckpointNotFoundError(f"ONNX model file {path} does not exist")
        sidecar = read_sidecar(path)
        if sidecar.format != "onnx":
            raise CheckpointError(f"{path}: its sidecar says format {sidecar.format!r}, expected 'onnx'")
        config = DeployableModelConfig.from_plain(sidecar.config, source=str(path))
        self._describe(config, ModelSource(name=config.name, runtime="onnx", path=str(path), kind="onnx"))
        expected = self.encodings
        for band, enc in sidecar.encodings.items():
            if band in expected and dict(enc) != expected[band]:
                raise CheckpointError(
                    f"{path}: band {band!r} is encoded as {dict(enc)} in the sidecar but as "
                    f"{expected[band]} by this darts version; re-export the model"
                )
        ort = import_onnxruntime()
        options = ort.SessionOptions()
        if threads is None:
            import torch  # darts-models depends on torch anyway: share its thread setting

            threads = torch.get_num_threads()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(str(path), options, providers=_providers(ort, device))
        except Exception as err:  # onnxruntime raises its own Fail / InvalidGraph / RuntimeException types
            raise CheckpointError(f"{path}: onnxruntime cannot load it: {err}") from err
        self._input = sidecar.input.name
        self._output = sidecar.output.name
        self._multiple = sidecar.spatial_multiple
        self.sidecar = sidecar

    def with_source(self, source: ModelSource) -> OnnxPredictor:
        """Record the file hash (computed by the loader) in :attr:`sources`."""
        self._sources = (source,)
        return self

    def predict_patches(self, patches: np.ndarray) -> np.ndarray:
        h, w = patches.shape[-2:]
        if h % self._multiple or w % self._multiple:
            raise DartsInputError(
                f"patches of {h}x{w} px do not fit this ONNX model: height and width must be multiples "
                f"of {self._multiple}"
            )
        x = np.ascontiguousarray(patches, dtype=np.float32)
        (probs,) = self._session.run([self._output], {self._input: x})
        return np.asarray(probs, dtype=np.float32)
