"""Heartbeat for journal-file storages (Optuna's own heartbeat covers only database storages).

A runner writes the time into its running trial's system attributes every interval; runners fail
RUNNING trials whose heartbeat is older than the grace period (`darts_sweep.stale`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from darts_sweep.stale import HEARTBEAT_ATTR

if TYPE_CHECKING:
    import optuna

logger = logging.getLogger(__name__)

__all__ = ["HEARTBEAT_ATTR", "TrialHeartbeat", "journal_heartbeat"]


class TrialHeartbeat:
    """Keeps the heartbeat of the trial the runner is working on."""

    def __init__(self, storage: optuna.storages.BaseStorage, interval_s: int, grace_s: int) -> None:
        self.storage = storage
        self.interval_s = interval_s
        self.grace_s = grace_s
        self.trial_id: int | None = None
        self._stop = threading.Event()

    def beat(self, trial_id: int | None = None) -> None:
        """Record a heartbeat now (for ``trial_id``, which becomes the current trial)."""
        if trial_id is not None:
            self.trial_id = trial_id
        if self.trial_id is not None:
            try:
                self.storage.set_trial_system_attr(self.trial_id, HEARTBEAT_ATTR, time.time())
            except Exception:  # the trial finished meanwhile
                self.trial_id = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.beat()


@contextmanager
def journal_heartbeat(
    study: optuna.Study, interval_s: int, grace_s: int | None
) -> Iterator[TrialHeartbeat | None]:
    """A TrialHeartbeat with its thread for a journal storage; None for other storages."""
    from optuna.storages import JournalStorage

    storage = study._storage
    if not isinstance(storage, JournalStorage):
        yield None
        return
    heartbeat = TrialHeartbeat(storage, interval_s, grace_s or 2 * interval_s)
    thread = threading.Thread(target=heartbeat._loop, name="darts-sweep-heartbeat", daemon=True)
    thread.start()
    try:
        yield heartbeat
    finally:
        heartbeat._stop.set()
        thread.join()
