"""The list of darts commands: name, lazy import target and one-line help.

Importing this module is cheap (no command module is imported). `darts --help` reads only this
list; a command's module is imported when that command runs or shows its own help.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CommandInfo:
    """One `darts` command."""

    name: str
    """The command name typed by the user, e.g. `train-smp`."""
    target: str | Callable[..., int]
    """Lazy import target `module:function` of the command function (or the function itself)."""
    help: str
    """One-line help shown by `darts --help` (kept here so that --help imports nothing)."""


_PKG = "darts_cli.commands"

COMMANDS: tuple[CommandInfo, ...] = (
    CommandInfo(
        "preprocess-planet-train-data",
        f"{_PKG}.preprocess_planet:preprocess_planet_train_data",
        "Build a training set (cross-val, val-test, test) from PLANET scenes and label polygons.",
    ),
    CommandInfo(
        "preprocess-s2-train-data",
        f"{_PKG}.preprocess_s2:preprocess_s2_train_data",
        "Build a training set (cross-val, val-test, test) from Sentinel-2 scenes and label polygons.",
    ),
    CommandInfo(
        "validate-train-data",
        f"{_PKG}.validate:validate_train_data",
        "Check that a training set on disk follows the layout contract.",
    ),
    CommandInfo(
        "train-smp",
        f"{_PKG}.train:train_smp",
        "Train one segmentation model on a fold of cross-val (or on all of it: the final retrain).",
    ),
    CommandInfo(
        "test-smp",
        f"{_PKG}.test:test_smp",
        "Evaluate a checkpoint on the val-test and test splits.",
    ),
    CommandInfo(
        "convert-lightning-checkpoint",
        f"{_PKG}.convert:convert_lightning_checkpoint",
        "Convert a Lightning checkpoint into a deployable model file.",
    ),
    CommandInfo(
        "export-model",
        f"{_PKG}.export_model:export_model",
        "Export a model to ONNX or TorchScript plus a JSON sidecar (bands, norm factors, patch size).",
    ),
    CommandInfo(
        "segment-planet-scenes",
        f"{_PKG}.segment_planet:segment_planet_scenes",
        "Segment PLANET scenes with trained models: probability map, binarized map and RTS polygons.",
    ),
    CommandInfo(
        "segment-s2-scenes",
        f"{_PKG}.segment_s2:segment_s2_scenes",
        "Segment Sentinel-2 scenes with trained models: probability map, binarized map and RTS polygons.",
    ),
    CommandInfo(
        "optuna-sweep-smp",
        f"{_PKG}.sweep:optuna_sweep_smp",
        "Create, resume or run a cross-validated Optuna hyperparameter sweep.",
    ),
    CommandInfo(
        "sweep-report",
        f"{_PKG}.sweep_report:sweep_report",
        "Summarise a sweep: best trials, parameter importances and plots.",
    ),
    CommandInfo(
        "env-info",
        f"{_PKG}.env_info:env_info",
        "Show versions of darts and its key dependencies, devices, CUDA and bf16 support.",
    ),
    CommandInfo(
        "quickstart",
        f"{_PKG}.quickstart:quickstart",
        "Run the whole flow on generated data in a few minutes (CPU, local storage).",
    ),
)


def settings_models(commands: Sequence[CommandInfo] = COMMANDS) -> dict[str, type[BaseModel]]:
    """Import every command module and return the settings model each declares, by command name.

    A command module that cannot be imported (work in progress) is skipped with a debug message,
    so one broken command never breaks the others.
    """
    models: dict[str, type[BaseModel]] = {}
    for info in commands:
        if callable(info.target):
            model = getattr(info.target, "__darts_settings__", None)
            if model is not None:
                models[info.name] = model
            continue
        module_name, _, attr = info.target.partition(":")
        try:
            func = getattr(importlib.import_module(module_name), attr)
        except Exception as exc:  # a half-written command must not break the others
            logger.debug("command %s not importable (%s); its keys are not known", info.name, exc)
            continue
        model = getattr(func, "__darts_settings__", None)
        if model is not None:
            models[info.name] = model
    return models
