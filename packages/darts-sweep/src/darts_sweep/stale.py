"""Trials whose runner is gone: detect them, fail them and queue each for one retry.

Two signs that a RUNNING trial's runner is gone:

- its runner ran on this host (same host name and PID namespace) and that process no longer
  exists (or its PID now belongs to another process): known at once, e.g. when a runner killed
  with SIGKILL is restarted;
- its heartbeat is older than the grace period (runners on other hosts): Optuna's own heartbeat for
  database storages, the ``darts_heartbeat`` trial attribute for journal files.

A failed trial is queued (WAITING) with the same parameters and user attributes, so its finished
runs are reused; a trial that already is a retry is not retried again. A trial stopped by Ctrl-C is
queued too, without using up its retry.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import warnings
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import optuna

logger = logging.getLogger(__name__)

RUNNER_ATTR = "darts_runner"
"""Trial system attribute: the runner process working on the trial (host, PID namespace, PID)."""
HEARTBEAT_ATTR = "darts_heartbeat"
"""Trial system attribute: time of the last heartbeat (journal storages)."""
MAX_RETRY = 1
_DARTS_SYSTEM_ATTRS = (RUNNER_ATTR, HEARTBEAT_ATTR)
_DROPPED_USER_ATTRS = ("fail_reason",)


def _proc_start_ticks(pid: int | str) -> str | None:
    """Start time of a process (clock ticks since boot); None when it does not exist or is a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


@cache
def _pid_namespace() -> str | None:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:  # not Linux: only heartbeats tell
        return None


def runner_identity(grace_s: int) -> dict[str, Any]:
    """What identifies this runner process (stored on each trial it runs)."""
    return {
        "host": socket.gethostname(),
        "pid_ns": _pid_namespace(),
        "pid": os.getpid(),
        "start": _proc_start_ticks("self"),
        "grace_s": grace_s,
    }


def runner_is_gone(identity: object) -> bool:
    """True when ``identity`` names a process of this host and PID namespace that no longer runs."""
    if not isinstance(identity, dict) or identity.get("start") is None:
        return False
    here = _pid_namespace()
    if here is None or identity.get("pid_ns") != here or identity.get("host") != socket.gethostname():
        return False
    return _proc_start_ticks(int(identity["pid"])) != identity["start"]


def retry_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial, *, counts: bool = True) -> int | None:
    """Queue ``trial`` again (WAITING, same parameters and user attributes); returns its retry count.

    ``counts=False`` (Ctrl-C) keeps the retry budget. None when the trial already used its retry.
    """
    import optuna

    history = list(trial.system_attrs.get("retry_history", []))
    if counts:
        if len(history) >= MAX_RETRY:
            logger.warning("trial %d failed again and was retried already: not retried", trial.number)
            return None
        history.append(trial.number)
    system_attrs = {k: v for k, v in trial.system_attrs.items() if k not in _DARTS_SYSTEM_ATTRS}
    system_attrs["failed_trial"] = system_attrs.get("failed_trial", trial.number)
    system_attrs["retry_history"] = history
    user_attrs = {k: v for k, v in trial.user_attrs.items() if k not in _DROPPED_USER_ATTRS}
    study.add_trial(
        optuna.create_trial(
            state=optuna.trial.TrialState.WAITING,
            params=trial.params,
            distributions=trial.distributions,
            user_attrs=user_attrs,
            system_attrs=system_attrs,
        )
    )
    return len(history)


class RetryStaleTrial:
    """Heartbeat-stale callback of database storages: queue the trial for one retry."""

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        logger.warning("trial %d lost its heartbeat: failed, queued for a retry", trial.number)
        retry_trial(study, trial)


def _heartbeat_too_old(trial: optuna.trial.FrozenTrial, grace_s: int, now: float) -> bool:
    last = trial.system_attrs.get(HEARTBEAT_ATTR)
    if last is None and trial.datetime_start is not None:
        last = trial.datetime_start.timestamp()
    identity = trial.system_attrs.get(RUNNER_ATTR)
    if isinstance(identity, dict) and identity.get("grace_s"):
        grace_s = int(identity["grace_s"])
    return last is not None and now - last > grace_s


def fail_stale_trials(
    study: optuna.Study, grace_s: int | None = None, own_trial_id: int | None = None
) -> list[int]:
    """Fail the RUNNING trials whose runner is gone and queue each for one retry; returns their numbers.

    Args:
        study: The sweep.
        grace_s: Heartbeat grace period for journal storages (None: check only for runners of this
            host that are gone). Database storages use Optuna's heartbeat with their own grace period.
        own_trial_id: The trial this runner works on (never stale).
    """
    import optuna
    from optuna.storages import JournalStorage
    from optuna.trial import TrialState

    storage = study._storage
    journal = isinstance(storage, JournalStorage)
    if grace_s is not None and not journal:
        with warnings.catch_warnings():  # "experimental" in Optuna
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)  # heartbeats; retries through RetryStaleTrial
    now = time.time()
    stale = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if trial._trial_id == own_trial_id:
            continue
        if runner_is_gone(trial.system_attrs.get(RUNNER_ATTR)):
            stale.append((trial, "its runner process on this host is gone"))
        elif journal and grace_s is not None and _heartbeat_too_old(trial, grace_s, now):
            stale.append((trial, "it had no heartbeat for longer than the grace period"))
    failed = []
    for trial, why in stale:
        try:
            storage.set_trial_user_attr(trial._trial_id, "fail_reason", f"runner lost: {why}")
            if not storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
                continue
        except optuna.exceptions.UpdateFinishedTrialError:  # another runner failed (or finished) it
            continue
        logger.warning("trial %d was left RUNNING (%s): failed, queued for a retry", trial.number, why)
        retry_trial(study, storage.get_trial(trial._trial_id))
        failed.append(trial.number)
    return failed
