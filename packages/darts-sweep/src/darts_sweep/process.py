"""Run one training in its own process (forkserver with heavy modules preloaded, or spawn).

A fresh process per run returns all GPU memory and global state (CUDA context, torch threads,
wandb) when the run ends, and a crash of the run (segfault, OOM kill) cannot take the runner down.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from darts_sweep import _worker
from darts_sweep.errors import TrainingRunError

if TYPE_CHECKING:
    from multiprocessing.context import ForkServerContext, SpawnContext

logger = logging.getLogger(__name__)

StartMethod = Literal["forkserver", "spawn"]

_BASE_PRELOAD = ("darts_sweep._worker",)
_contexts: dict[tuple[str, tuple[str, ...]], ForkServerContext | SpawnContext] = {}


def get_context(start_method: StartMethod, train_fn_path: str) -> ForkServerContext | SpawnContext:
    """The process context; a forkserver preloads the training function's module.

    The default training module imports torch, lightning and darts_train at import time, so they
    are imported once, in the forkserver. (Python 3.11's forkserver imports with its own sys.path:
    installed packages and the working directory; a training module found only through the
    parent's sys.path is imported in each run's process instead.)

    The forkserver starts once per runner process (at its first run); later runs fork from it, so
    a run's process starts in a fraction of a second without re-importing torch.
    """
    preload = (*_BASE_PRELOAD, train_fn_path.partition(":")[0])
    key = (start_method, preload)
    if key not in _contexts:
        ctx: ForkServerContext | SpawnContext
        if start_method == "forkserver":
            ctx = multiprocessing.get_context("forkserver")
            # Takes effect when the forkserver starts, i.e. at the first run of this runner.
            ctx.set_forkserver_preload(list(dict.fromkeys(preload)))
        else:
            ctx = multiprocessing.get_context(start_method)
        _contexts[key] = ctx
    return _contexts[key]


def run_in_process(
    train_fn_path: str,
    options: dict[str, Any],
    start_method: StartMethod = "forkserver",
    poll_interval_s: float = 0.2,
) -> dict[str, Any]:
    """Run ``train_fn(options)`` in a child process; return its result dict or raise TrainingRunError.

    The child is terminated if the caller is interrupted (KeyboardInterrupt) while waiting.
    """
    ctx = get_context(start_method, train_fn_path)
    result_r, result_w = ctx.Pipe(duplex=False)
    alive_r, alive_w = ctx.Pipe(duplex=False)
    process = ctx.Process(
        target=_worker.run_training,
        args=(train_fn_path, options, result_w, alive_r, logging.getLogger().getEffectiveLevel()),
        name="darts-sweep-run",
        daemon=False,
    )
    with _main_script_hidden():
        process.start()
    result_w.close()
    alive_r.close()
    message: tuple[Any, ...] | None = None
    try:
        while message is None:
            if result_r.poll(poll_interval_s):
                try:
                    message = result_r.recv()
                except EOFError:
                    break
            elif not process.is_alive():
                if result_r.poll(0):
                    continue
                break
        process.join()
    finally:
        if process.is_alive():
            logger.warning("stopping training process %s", process.pid)
            process.terminate()
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join()
        result_r.close()
        alive_w.close()
    return _unpack(message, process.exitcode)


@contextlib.contextmanager
def _main_script_hidden() -> Iterator[None]:
    """Start a child without it re-running the main script (e.g. the `darts` entry point).

    A spawn / forkserver child re-imports ``__main__`` from its file (Python 3.11's forkserver never
    preloads it), which would cost the main script's imports on every run. The run's target and its
    training function are importable modules, so the child does not need ``__main__``: its
    ``__file__`` is hidden while the child's preparation data is taken, and restored right after.
    """
    main = sys.modules.get("__main__")
    hide = main is not None and getattr(main, "__spec__", None) is None and hasattr(main, "__file__")
    saved = main.__dict__.pop("__file__") if hide else None
    try:
        yield
    finally:
        if hide and main is not None:
            main.__file__ = saved


def _unpack(message: tuple[Any, ...] | None, exitcode: int | None) -> dict[str, Any]:
    if message is None:
        how = (
            f"was killed by signal {-exitcode}"
            if exitcode and exitcode < 0
            else f"exited with code {exitcode}"
        )
        hint = " (out of memory?)" if exitcode == -9 else ""
        raise TrainingRunError(f"training process {how}{hint} without a result")
    if message[0] == "ok":
        return message[1]
    _, reason, trace = message
    logger.debug("training failed in its process:\n%s", trace)
    raise TrainingRunError(f"training failed: {reason}")
