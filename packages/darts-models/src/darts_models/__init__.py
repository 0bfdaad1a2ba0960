"""darts_models: model factory, focal loss, metrics, deployable model files and whole-scene inference.

Quick example::

    import numpy as np
    from darts_models import build_model, predict_array

    net = build_model("Unet", "resnet18", encoder_weights=None, in_channels=3).eval()
    x = np.random.default_rng(0).random((3, 96, 80), dtype=np.float32)  # normalised bands [c, h, w]
    probs = predict_array(net, x, patch_size=64, overlap=16, batch_size=2)
    assert probs.shape == (96, 80) and 0.0 <= probs.min() <= probs.max() <= 1.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from darts_core.lazy import lazy_attributes
from darts_models import metric_keys
from darts_models.errors import (
    CheckpointError,
    CheckpointExistsError,
    CheckpointNotFoundError,
    DiskFullError,
    ExportError,
    UnknownModelError,
)

if TYPE_CHECKING:
    from darts_models.checkpoint import (
        DeployableModelConfig,
        LoadedModel,
        ModelSpec,
        load_deployable_checkpoint,
        read_deployable_checkpoint,
        save_deployable_checkpoint,
    )
    from darts_models.export import ExportResult, export_model
    from darts_models.factory import build_model, list_architectures, list_encoders
    from darts_models.inference import predict_array, segment_scene
    from darts_models.instances import ObjectMetrics, boundary_iou, object_metrics
    from darts_models.loading import load_predictor
    from darts_models.losses import FocalLoss
    from darts_models.metric_keys import OBJECT_METRICS
    from darts_models.metrics import InstanceMetrics, build_pixel_metrics
    from darts_models.onnx_runtime import OnnxPredictor
    from darts_models.predictor import (
        EnsemblePredictor,
        FlipTTAPredictor,
        ModelSource,
        Precision,
        Predictor,
        TorchPredictor,
    )

# torch, smp and torchmetrics load only when one of these names is first used (PEP 562)
_LAZY: dict[str, str] = {
    "DeployableModelConfig": ".checkpoint",
    "LoadedModel": ".checkpoint",
    "ModelSpec": ".checkpoint",
    "load_deployable_checkpoint": ".checkpoint",
    "read_deployable_checkpoint": ".checkpoint",
    "save_deployable_checkpoint": ".checkpoint",
    "build_model": ".factory",
    "list_architectures": ".factory",
    "list_encoders": ".factory",
    "predict_array": ".inference",
    "ExportResult": ".export",
    "export_model": ".export",
    "load_predictor": ".loading",
    "OnnxPredictor": ".onnx_runtime",
    "EnsemblePredictor": ".predictor",
    "FlipTTAPredictor": ".predictor",
    "ModelSource": ".predictor",
    "Precision": ".predictor",
    "Predictor": ".predictor",
    "TorchPredictor": ".predictor",
    "segment_scene": ".inference",
    "OBJECT_METRICS": ".metric_keys",
    "ObjectMetrics": ".instances",
    "boundary_iou": ".instances",
    "object_metrics": ".instances",
    "FocalLoss": ".losses",
    "InstanceMetrics": ".metrics",
    "build_pixel_metrics": ".metrics",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "OBJECT_METRICS",
    "CheckpointError",
    "CheckpointExistsError",
    "CheckpointNotFoundError",
    "DeployableModelConfig",
    "DiskFullError",
    "EnsemblePredictor",
    "ExportError",
    "ExportResult",
    "FlipTTAPredictor",
    "FocalLoss",
    "InstanceMetrics",
    "LoadedModel",
    "ModelSource",
    "ModelSpec",
    "ObjectMetrics",
    "OnnxPredictor",
    "Precision",
    "Predictor",
    "TorchPredictor",
    "UnknownModelError",
    "boundary_iou",
    "build_model",
    "build_pixel_metrics",
    "export_model",
    "list_architectures",
    "list_encoders",
    "load_deployable_checkpoint",
    "load_predictor",
    "metric_keys",
    "object_metrics",
    "predict_array",
    "read_deployable_checkpoint",
    "save_deployable_checkpoint",
    "segment_scene",
]
