"""The run-wide part of each scene's ``run.json``: models, options, band order, versions."""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from darts_segment.config import SegmentConfig

_DISTRIBUTIONS = (
    "darts-segment",
    "darts-models",
    "darts-preprocess",
    "torch",
    "segmentation-models-pytorch",
    "onnxruntime",
    "rasterio",
    "numpy",
)
_RUN_OPTIONS = (
    "segment_device",
    "precision",
    "tta",
    "runtime",
    "offline",
    "tpi_outer_radius",
    "tpi_inner_radius",
    "overwrite",
)


def versions() -> dict[str, str]:
    """Installed versions of darts and the libraries that shape the outputs (GDAL included)."""
    found = {"python": platform.python_version()}
    for name in _DISTRIBUTIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    try:
        import rasterio

        found["gdal"] = rasterio.__gdal_version__
    except ImportError:  # pragma: no cover - rasterio is a dependency
        pass
    return found


def run_record(
    config: SegmentConfig,
    sensor: str,
    models: list[dict[str, Any]],
    options: Any,
    bands: tuple[str, ...],
) -> dict[str, Any]:
    """Plain dict: sensor, models (path, name, sha256), bands, inference and run options, versions."""
    inference = {
        "patch_size": options.patch_size,
        "overlap": options.overlap,
        "batch_size": options.batch_size,
        "threshold": options.threshold,
        "min_area_m2": options.min_area_m2,
    }
    return {
        "sensor": sensor,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "models": models,
        "bands": list(bands),
        "options": inference | {k: getattr(config, k) for k in _RUN_OPTIONS},
        "versions": versions(),
    }
