"""Provenance recorded in every checkpoint: dataset fingerprint, library versions, git commit."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from darts_core.trainset_layout import CONFIG_FILE

_LIBRARIES = (
    "darts-train",
    "darts-models",
    "darts-dataset",
    "darts-preprocess",
    "torch",
    "lightning",
    "segmentation-models-pytorch",
    "timm",
    "torchmetrics",
    "numpy",
)


def dataset_fingerprint(train_data_dir: Path, n_patches: Mapping[str, int]) -> dict[str, Any]:
    """SHA-256 of the training set's config.toml plus its patch counts per split."""
    config_file = Path(train_data_dir) / CONFIG_FILE
    digest = hashlib.sha256(config_file.read_bytes()).hexdigest() if config_file.is_file() else None
    return {
        "train_data_dir": str(Path(train_data_dir).resolve()),
        "config_sha256": digest,
        "n_patches": {str(k): int(v) for k, v in n_patches.items()},
    }


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that shape a model."""
    versions = {}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def git_commit(path: Path | None = None) -> str | None:
    """The commit of the git checkout holding ``path`` (default: this package), ``+dirty`` if modified."""
    where = Path(path) if path is not None else Path(__file__).parent
    try:
        head = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}+dirty" if status else head or None
