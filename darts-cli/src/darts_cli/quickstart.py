"""The library behind `darts quickstart`: the whole darts flow on a generated data set, on the CPU.

:func:`run_quickstart` generates a small PlanetScope-like collection on real RTS label sites, writes
a ``config.toml`` (plus a sweep file) into the work folder, and then runs every step by building
the step's typed config exactly as the ``darts`` command would — from that ``config.toml`` plus
the options shown in the step's command line — and calling the library function. So each logged
command line, run inside the work folder, repeats its step.

Heavy libraries are imported inside the steps; a step whose package is not installed stops the run
(its ImportError is reported), keeping what the earlier steps made.
"""

from __future__ import annotations

import json
import logging
import shlex
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from darts_cli.quickstart_steps import STEPS, Notify, QuickstartSize, StepContext
from darts_core.atomic import write_text_atomically
from darts_core.errors import DartsInputError

logger = logging.getLogger(__name__)

MARKER_FILE = ".darts-quickstart"
CONFIG_FILE = "config.toml"
SWEEP_FILE = "sweep.yaml"
SUMMARY_FILE = "summary.json"

DEFAULT_SIZE = QuickstartSize(
    n_scenes=12, size_px=256, patch_size=64, max_epochs=10, batch_size=8, sweep_max_epochs=3, sweep_trials=2
)
TINY_SIZE = QuickstartSize(
    n_scenes=8, size_px=192, patch_size=64, max_epochs=8, batch_size=4, sweep_max_epochs=1, sweep_trials=2
)


@dataclass
class StepRecord:
    """One step of the quickstart: what it ran and how it went."""

    name: str
    command: str | None
    """The equivalent command line (run inside the work folder), or None for steps without one."""
    status: str = "pending"
    """pending, running, done, unavailable or failed."""
    seconds: float = 0.0
    detail: str = ""


@dataclass
class QuickstartSummary:
    """Everything the quickstart made, for the final table."""

    workdir: Path
    config_file: Path
    steps: list[StepRecord] = field(default_factory=list)
    artifacts: dict[str, Path] = field(default_factory=dict)
    """Name -> path of each artifact (training set, run dir, model file, ...)."""
    metrics: dict[str, float] = field(default_factory=dict)
    """``val-test/JaccardIndex``, ``test/JaccardIndex``, ``inference/JaccardIndex``, ``sweep/best``..."""
    sweep_best: dict[str, Any] = field(default_factory=dict)
    """Best sweep trial: number, value, params."""
    stopped_at: str | None = None
    """Name of the step that could not run; None when every step ran."""
    message: str = ""


def quickstart_settings(size: QuickstartSize) -> dict[str, Any]:
    """The ``[darts]`` table of the quickstart's config.toml (sub-tables only group keys)."""
    from darts_preprocess.synthetic.collections import TEST_REGION

    return {
        "paths": {
            "data-dir": "data/planet",
            "labels-dir": "data/labels",
            "arcticdem-dir": "data/arcticdem",
            "tcvis-dir": "data/tcvis",
            "admin-dir": "data/admin",
            "train-data-dir": "training-set",
            "artifact-dir": "artifacts",
            "sweep-config": SWEEP_FILE,
            "out-directory": "models",
        },
        "preprocess": {
            "patch-size": size.patch_size,
            "overlap": 0,
            "exclude-nan": False,
            "test-val-split": 0.2,
            "test-regions": [TEST_REGION],
            "dask-worker": 1,
        },
        "training": {
            "model-arch": "Unet",
            "model-encoder": "resnet18",
            "learning-rate": 0.003,
            "gamma": 0.95,
            "focal-loss-gamma": 2.0,
            "batch-size": size.batch_size,
            "max-epochs": size.max_epochs,
            "n-folds": 2,
            "check-val-every-n-epoch": 2,
            "early-stopping-patience": 0,
            "plot-every-n-val-epochs": 2,
            "log-every-n-steps": 5,
            "accelerator": "cpu",
            "precision": "32",
            "run-name": "quickstart-unet",
        },
        "devices": {"preprocess-device": "cpu", "test-device": "cpu", "sweep-device": "cpu"},
        "convert": {"checkpoint-name": "quickstart-unet"},
        "segment": {"offline": True},
        "sweep": {"sweep-id": "quickstart-sweep", "n-trials": size.sweep_trials, "n-randoms": 1},
    }


SWEEP_YAML = """\
# Written by `darts quickstart`: a wandb sweep configuration, run with Optuna by optuna-sweep-smp.
name: quickstart
method: random
metric:
  goal: maximize
  name: val/JaccardIndex
parameters:
  learning_rate:
    distribution: log_uniform_values
    min: 0.001
    max: 0.01
  focal_loss_gamma:
    values: [1.0, 2.0]
  model_encoder:
    value: resnet18
"""


def toml_text(table: dict[str, Any], prefix: str = "darts") -> str:
    """TOML for a table of scalars, lists of scalars and sub-tables (what the quickstart writes)."""
    lines = [f"[{prefix}]"] if any(not isinstance(v, dict) for v in table.values()) else []
    lines += [f"{key} = {_toml_value(value)}" for key, value in table.items() if not isinstance(value, dict)]
    text = "\n".join(lines) + ("\n\n" if lines else "")
    for key, value in table.items():
        if isinstance(value, dict):
            text += toml_text(value, f"{prefix}.{key}")
    return text


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} ({type(value).__name__}) to TOML")


def _write_atomic(path: Path, text: str) -> None:
    write_text_atomically(path, text)


def prepare_workdir(workdir: Path, size: QuickstartSize) -> Path:
    """Empty (or create) the work folder and write config.toml and the sweep file; returns config.toml.

    A folder that is not empty and was not made by an earlier quickstart is left alone: an error.
    """
    workdir = workdir.expanduser().resolve()
    if workdir.exists():
        if not workdir.is_dir():
            raise DartsInputError(f"quickstart work folder {workdir} is a file; give a folder")
        if any(workdir.iterdir()) and not (workdir / MARKER_FILE).exists():
            raise DartsInputError(
                f"quickstart work folder {workdir} is not empty and was not made by darts quickstart; "
                "give an empty or new folder with --workdir"
            )
        for child in workdir.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / MARKER_FILE).write_text("made by darts quickstart; its next run empties this folder\n")
    header = (
        "# Written by `darts quickstart`. Every darts command reads the [darts] table; sub-tables only\n"
        "# group keys. Edit a value and rerun a step from this folder, e.g.\n"
        "#   darts train-smp --config-file config.toml\n\n"
    )
    config = workdir / CONFIG_FILE
    _write_atomic(config, header + toml_text(quickstart_settings(size)))
    _write_atomic(workdir / SWEEP_FILE, SWEEP_YAML)
    return config


def command_line(command: str, options: dict[str, Any], workdir: Path) -> str:
    """``darts COMMAND --config-file config.toml --opt value ...`` with paths relative to ``workdir``."""
    parts = ["darts", command, "--config-file", CONFIG_FILE]
    for name, value in options.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            if isinstance(item, Path) and item.is_relative_to(workdir):
                item = item.relative_to(workdir)
            parts += [f"--{name.replace('_', '-')}", str(item)]
    return shlex.join(parts)


def run_quickstart(
    workdir: Path | str = Path("darts-quickstart"),
    tiny: bool = False,
    on_step: Callable[[StepRecord], None] | None = None,
) -> QuickstartSummary:
    """Run every quickstart step in ``workdir`` (emptied first); returns what was made.

    ``tiny`` shrinks everything (fewer, smaller scenes, fewer epochs) for tests. ``on_step`` is
    called when a step starts and when it ends (to show progress). Stops at the first step whose
    library is missing (``summary.stopped_at``); any other error propagates.
    """
    size = TINY_SIZE if tiny else DEFAULT_SIZE
    workdir = Path(workdir).expanduser().resolve()
    config_file = prepare_workdir(workdir, size)
    summary = QuickstartSummary(workdir=workdir, config_file=config_file)
    ctx = StepContext(workdir=workdir, config_file=config_file, size=size, summary=summary)
    notify = on_step or (lambda record: None)
    try:
        for name, step in STEPS:
            if not _run_step(ctx, name, step, notify):
                break
    finally:
        write_summary(summary)
    return summary


def _run_step(ctx: StepContext, name: str, step: Callable[..., None], notify: Notify) -> bool:
    """Run one step; False when its library is missing (the quickstart stops there)."""
    record = StepRecord(name=name, command=None, status="running")
    ctx.summary.steps.append(record)
    ctx.record = record
    started = time.perf_counter()
    try:
        step(ctx, notify)
    except ImportError as exc:
        record.status, record.detail = "unavailable", str(exc)
        ctx.summary.stopped_at = name
        ctx.summary.message = f"step '{name}' needs a package that is not installed: {exc}"
        logger.warning("%s", ctx.summary.message)
        return False
    except BaseException:
        record.status = "failed"
        raise
    else:
        record.status = "done"
    finally:
        record.seconds = time.perf_counter() - started
        notify(record)
    return True


def write_summary(summary: QuickstartSummary) -> Path:
    """``summary.json`` in the work folder: steps, artifacts (relative paths), metrics, best trial."""
    workdir = summary.workdir

    def rel(path: Path) -> str:
        return str(path.relative_to(workdir)) if path.is_relative_to(workdir) else str(path)

    data = {
        "workdir": str(workdir),
        "config_file": rel(summary.config_file),
        "stopped_at": summary.stopped_at,
        "message": summary.message,
        "steps": [asdict(record) for record in summary.steps],
        "artifacts": {name: rel(path) for name, path in summary.artifacts.items()},
        "metrics": summary.metrics,
        "sweep_best": summary.sweep_best,
    }
    path = workdir / SUMMARY_FILE
    _write_atomic(path, json.dumps(data, indent=2, default=str) + "\n")
    return path
