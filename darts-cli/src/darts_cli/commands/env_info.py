"""`darts env-info`: versions of darts and its key dependencies, Python, devices, CUDA and bf16."""

from __future__ import annotations

import platform
import sys
from importlib.metadata import PackageNotFoundError, version

from darts_cli.options import darts_command

DARTS_PACKAGES = (
    "darts-cli",
    "darts-preprocess",
    "darts-dataset",
    "darts-models",
    "darts-train",
    "darts-sweep",
)
KEY_DEPENDENCIES = (
    "torch",
    "lightning",
    "segmentation-models-pytorch",
    "timm",
    "torchmetrics",
    "optuna",
    "wandb",
    "zarr",
    "xarray",
    "numpy",
    "rasterio",
    "geopandas",
    "pydantic",
    "cyclopts",
)


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def collect_env_info() -> dict[str, str]:
    """Name -> value of everything `env-info` shows (imports torch)."""
    info = {"python": sys.version.split()[0], "platform": platform.platform()}
    info |= {package: _version(package) for package in (*DARTS_PACKAGES, *KEY_DEPENDENCIES)}
    import torch

    cuda = torch.cuda.is_available()
    info["torch cuda build"] = str(torch.version.cuda)
    info["cuda available"] = str(cuda)
    info["cuda devices"] = str(torch.cuda.device_count() if cuda else 0)
    for index in range(torch.cuda.device_count() if cuda else 0):
        props = torch.cuda.get_device_properties(index)
        info[f"cuda:{index}"] = f"{props.name}, {props.total_memory / 2**30:.1f} GiB"
    info["bf16 supported"] = str(cuda and torch.cuda.is_bf16_supported())
    info["mps available"] = str(torch.backends.mps.is_available())
    info["cpu threads"] = str(torch.get_num_threads())
    return info


@darts_command()
def env_info() -> int:
    """Show versions of darts and its key dependencies, Python, devices, CUDA and bf16 support."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="darts environment", show_header=False)
    for name, value in collect_env_info().items():
        table.add_row(name, value)
    Console().print(table)
    return 0
