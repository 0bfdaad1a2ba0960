"""Heartbeat for journal-file storages (Optuna's own heartbeat covers only database storages).

A runner writes the time into its running trial's system attributes every interval; a runner
that starts (or finishes a trial) fails RUNNING trials whose heartbeat is older than the grace
period and queues them for one retry, as RDBStorage + RetryHeartbeatStaleTrialCallback do.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import optuna

logger = logging.getLogger(__name__)

HEARTBEAT_ATTR = "darts_heartbeat"


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

    def fail_stale(self, study: optuna.Study) -> list[int]:
        """Fail RUNNING trials whose heartbeat is older than the grace period; retry each once."""
        import optuna
        from optuna.trial import TrialState

        now = time.time()
        failed = []
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            last = trial.system_attrs.get(HEARTBEAT_ATTR)
            if last is None and trial.datetime_start is not None:
                last = trial.datetime_start.timestamp()
            if last is None or now - last <= self.grace_s or trial._trial_id == self.trial_id:
                continue
            try:
                if self.storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
                    failed.append(trial._trial_id)
            except optuna.exceptions.UpdateFinishedTrialError:
                continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)
        for trial_id in failed:
            frozen = self.storage.get_trial(trial_id)
            logger.warning(
                "trial %d had no heartbeat for %d s: failed, queued for a retry", frozen.number, self.grace_s
            )
            retry(study, frozen)
        return failed


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
    heartbeat.fail_stale(study)
    thread = threading.Thread(target=heartbeat._loop, name="darts-sweep-heartbeat", daemon=True)
    thread.start()
    try:
        yield heartbeat
    finally:
        heartbeat._stop.set()
        thread.join()
