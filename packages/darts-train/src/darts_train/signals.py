"""SIGTERM and SIGINT as a typed error: record the signal, raise it where stopping is safe.

A scheduler (SLURM, Kubernetes, ``timeout``) stops a job with SIGTERM, a user with Ctrl-C (SIGINT).
While :func:`stop_on_signals` is active, either signal is recorded in a :class:`StopRequest`. While
the request is ``deferred`` (a training loop that stops at the next batch end itself) the first
signal only logs; otherwise, and for a second signal, it raises :class:`TrainingInterruptedError`
at once. Its ``exit_code`` is the shell's ``128 + signal`` (SIGTERM 143, SIGINT 130). No torch here:
the sweep runner uses it too.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType

from darts_core.errors import SignalInterruptError

log = logging.getLogger(__name__)

HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class TrainingInterruptedError(SignalInterruptError):
    """Training (or a sweep runner) stopped by a signal; ``exit_code`` 143 for SIGTERM, 130 for SIGINT."""


def signal_name(signum: int) -> str:
    """``SIGTERM`` for 15, ..."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


@dataclass
class StopRequest:
    """The signal received (None while none was) and whether the trainer stops at a batch end."""

    signum: int | None = None
    deferred: bool = False
    """True while the trainer's loops run: the callback raises at the next batch end."""

    def handle(self, signum: int, _frame: FrameType | None) -> None:
        first = self.signum is None
        self.signum = signum
        if first and self.deferred:
            log.warning("%s received: stopping after the current batch", signal_name(signum))
            return
        raise TrainingInterruptedError(signum)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[StopRequest]:
    """Record SIGTERM / SIGINT in the yielded request; the previous handlers come back afterwards.

    Outside the main thread (where Python cannot set handlers) the request never fires.
    """
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous = {signum: signal.getsignal(signum) for signum in HANDLED_SIGNALS}
    for signum in HANDLED_SIGNALS:
        signal.signal(signum, request.handle)
    try:
        yield request
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
