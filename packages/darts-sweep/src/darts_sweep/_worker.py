"""The child side of a training run: imported (and preloaded) in the forkserver, runs one training.

Kept free of heavy imports itself; the training function is imported by its ``module:function``
path, so the forkserver can preload its module (torch, lightning, darts_train) once per runner.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import math
import os
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any


def import_function(path: str) -> Callable[..., Any]:
    """``package.module:function`` -> the function."""
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise ValueError(f"training function {path!r} must be given as 'module:function'")
    return getattr(importlib.import_module(module_name), attr)


def result_to_dict(result: Any) -> dict[str, Any]:
    """A TrainResult (or a mapping with the same keys) -> plain, picklable, JSON-able dict."""
    get = result.get if isinstance(result, dict) else lambda key, default=None: getattr(result, key, default)
    metrics = {str(k): _to_float(v) for k, v in dict(get("metrics") or {}).items()}
    return {
        "run_name": _opt_str(get("run_name")),
        "run_id": _opt_str(get("run_id")),
        "run_dir": _opt_str(get("run_dir")),
        "best_checkpoint": _opt_str(get("best_checkpoint")),
        "last_checkpoint": _opt_str(get("last_checkpoint")),
        "best_score": _to_float(get("best_score")),
        "metrics": metrics,
    }


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _to_float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _exit_when_runner_dies(alive: Connection) -> None:
    """The runner holds the other end; EOF means it died (e.g. SIGKILL): stop training at once."""
    with contextlib.suppress(EOFError, OSError):
        alive.recv()
    os._exit(3)


def run_training(
    train_fn_path: str, options: dict[str, Any], result_conn: Connection, alive: Connection, log_level: int
) -> None:
    """Process target: run the training and send ("ok", result dict) or ("error", reason, traceback)."""
    threading.Thread(target=_exit_when_runner_dies, args=(alive,), daemon=True).start()
    if not logging.getLogger().handlers:
        logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        result = import_function(train_fn_path)(options)
        message: tuple[Any, ...] = ("ok", result_to_dict(result))
    except BaseException as err:  # report everything (incl. CUDA OOM, KeyboardInterrupt) to the runner
        reason = f"{type(err).__name__}: {err}".strip()
        message = ("error", reason[:2000], traceback.format_exc()[-8000:])
    try:
        result_conn.send(message)
    finally:
        result_conn.close()
