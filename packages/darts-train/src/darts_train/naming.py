"""Run names, run ids and the artifact layout (docs/guide/train.md, "What a run writes").

```
{artifact_dir}/{run_name}/{run_id}                  a plain run
{artifact_dir}/{trial_name}/{run_name}-{run_id}     a run inside a sweep trial
```

Run folders are created with ``exist_ok=False``: when several runners start at once, a runner
whose generated id (or name) is taken draws a new one instead of sharing a folder.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from darts_train.errors import RunExistsError, RunNotFoundError

RUN_ID_LENGTH = 8
_ID_ALPHABET = string.ascii_lowercase + string.digits
_MAX_TRIES = 50


@dataclass(frozen=True)
class RunIdentity:
    """Who a run is and where its artifacts live."""

    run_name: str
    run_id: str
    trial_name: str | None
    run_dir: Path


def generate_run_id() -> str:
    """A random 8-character id of lowercase letters and digits."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(RUN_ID_LENGTH))


def generate_run_name() -> str:
    """A readable random name such as ``brave-otter``."""
    import coolname

    return coolname.generate_slug(2)


def run_dir_for(artifact_dir: Path, run_name: str, run_id: str, trial_name: str | None = None) -> Path:
    """A run's folder: ``artifact_dir/run_name/run_id``, in a sweep ``artifact_dir/trial/run_name-run_id``."""
    if trial_name:
        return Path(artifact_dir) / trial_name / f"{run_name}-{run_id}"
    return Path(artifact_dir) / run_name / run_id


def create_run_dir(
    artifact_dir: Path,
    run_name: str | None,
    run_id: str | None,
    trial_name: str | None = None,
    *,
    reuse: bool = False,
) -> RunIdentity:
    """Create a fresh run folder, generating the name and id that are not given.

    A generated name or id that is already taken is drawn again; a fully user-given run whose
    folder exists raises :class:`RunExistsError` (continue it with continue-from-checkpoint), unless
    ``reuse`` (resume=auto of a run stopped before its first checkpoint) takes it as it is.
    """
    for _ in range(_MAX_TRIES):
        name = run_name or generate_run_name()
        rid = run_id or generate_run_id()
        run_dir = run_dir_for(artifact_dir, name, rid, trial_name)
        run_dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            run_dir.mkdir(exist_ok=False)
        except FileExistsError:
            if run_name is not None and run_id is not None:
                if reuse:
                    return RunIdentity(run_name, run_id, trial_name, run_dir)
                raise RunExistsError(
                    f"run folder {run_dir} already exists; choose another run-id, leave it out to "
                    "generate one, or resume that run with continue-from-checkpoint"
                ) from None
            continue
        return RunIdentity(name, rid, trial_name, run_dir)
    raise RunExistsError(f"could not find a free run folder under {artifact_dir} after {_MAX_TRIES} tries")


def find_run_dir(artifact_dir: Path, run_name: str, run_id: str) -> Path:
    """The folder of an existing run, plain or inside any trial."""
    plain = run_dir_for(artifact_dir, run_name, run_id)
    if plain.is_dir():
        return plain
    in_trials = sorted(Path(artifact_dir).glob(f"*/{run_name}-{run_id}"))
    if len(in_trials) == 1:
        return in_trials[0]
    if len(in_trials) > 1:
        raise RunNotFoundError(f"run {run_name}/{run_id} is ambiguous under {artifact_dir}: {in_trials}")
    raise RunNotFoundError(
        f"no run {run_name}/{run_id} under {artifact_dir} (looked for {plain} and */{run_name}-{run_id})"
    )
