"""Sweep storage (SQLAlchemy URL or journal file), samplers and study creation / resumption."""

from __future__ import annotations

import logging
import re
import secrets
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from darts_sweep.errors import SweepConfigError, SweepStorageError

if TYPE_CHECKING:
    import optuna
    from optuna.samplers._lazy_random_state import LazyRandomState

    from darts_sweep.spec import SweepSpec

logger = logging.getLogger(__name__)

SWEEP_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
DEFAULT_DB_NAME = "sweep.db"
_SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
STUDY_ATTR_SPEC = "darts_sweep_spec"
STUDY_ATTR_CV = "darts_cross_validation"


def new_sweep_id() -> str:
    """A fresh sweep id: ``sweep-`` and 8 random hex digits (safe as a folder and study name)."""
    return f"sweep-{secrets.token_hex(4)}"


def check_sweep_id(sweep_id: str) -> str:
    """A sweep id becomes a folder name: letters, digits, ``.``, ``_`` and ``-`` only."""
    if not SWEEP_ID_PATTERN.match(sweep_id):
        raise SweepConfigError(
            f"sweep-id {sweep_id!r} is not valid: use letters, digits, '.', '_' and '-' (at most 100)"
        )
    return sweep_id


def storage_url(sweep_db: str | None, artifact_dir: Path, sweep_id: str) -> str:
    """The storage location: a SQLAlchemy URL, or ``journal:<path>`` for a journal file.

    ``postgresql://`` and ``postgres://`` use psycopg 3; a path ending in .db/.sqlite/.sqlite3 is a
    SQLite file, any other path an Optuna journal file; none = SQLite under {artifact_dir}/{sweep_id}/.
    """
    if not sweep_db:
        path = (artifact_dir / sweep_id / DEFAULT_DB_NAME).resolve()
        return f"sqlite:///{path}"
    if sweep_db.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + sweep_db.split("://", 1)[1]
    if "://" in sweep_db:
        if (
            sweep_db.rstrip("/") in ("sqlite:", "sqlite:/")
            or ":memory:" in sweep_db
            or "mode=memory" in sweep_db
        ):
            raise SweepConfigError(
                f"sweep-db {sweep_db} is in-memory; a sweep needs a file or a database server"
            )
        return sweep_db
    path = Path(sweep_db).expanduser().resolve()
    if path.suffix.lower() in _SQLITE_SUFFIXES:
        return f"sqlite:///{path}"
    return f"journal:{path}"


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (for logs and messages)."""
    if url.startswith("journal:") or "://" not in url:
        return url
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: hide everything between :// and @
        return re.sub(r"://[^@/]*@", "://***@", url)


def open_storage(url: str, heartbeat_interval_s: int, grace_period_s: int) -> optuna.storages.BaseStorage:
    """Open (create) the storage; RDB storages record heartbeats and retry stale trials once."""
    import optuna

    from darts_sweep.stale import RetryStaleTrial

    if url.startswith("journal:"):
        from optuna.storages.journal import JournalFileBackend

        path = Path(url.removeprefix("journal:"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine_kwargs = {"connect_args": {"timeout": 60}}
    else:
        engine_kwargs = {"pool_pre_ping": True}
    try:
        with warnings.catch_warnings():  # heartbeat and its retry callback are "experimental" in Optuna
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=heartbeat_interval_s,
                grace_period=grace_period_s,
                heartbeat_stale_trial_callback=RetryStaleTrial(),
            )
    except Exception as err:  # sqlalchemy / driver errors; never show the password
        message = str(err).split("\n", 1)[0]
        raise SweepStorageError(f"cannot open sweep-db {mask_url(url)}: {message}") from None


def make_sampler(spec: SweepSpec, seed: int) -> optuna.samplers.BaseSampler:
    """random -> RandomSampler, bayes -> TPE, grid -> GridSampler; seeded per trial number.

    Random and TPE samplers are reseeded with ``seed + trial.number`` before each trial, so runners
    sharing a study draw different, reproducible parameters instead of the same sequence.
    """
    import optuna

    if spec.method == "grid":
        return optuna.samplers.GridSampler(spec.grid_space(), seed=seed)

    class _TrialSeeded(optuna.samplers.BaseSampler):
        _rng: LazyRandomState  # RandomSampler's and TPESampler's

        def before_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            trial_seed = (seed + trial.number) % 2**32
            self._rng.rng.seed(trial_seed)
            inner = getattr(self, "_random_sampler", None)
            if inner is not None:
                inner._rng.rng.seed(trial_seed)
            super().before_trial(study, trial)

    if spec.method == "bayes":
        cls = type("TrialSeededTPESampler", (_TrialSeeded, optuna.samplers.TPESampler), {})
        return cls(seed=seed, constant_liar=True)
    cls = type("TrialSeededRandomSampler", (_TrialSeeded, optuna.samplers.RandomSampler), {})
    return cls(seed=seed)


def make_pruner(prune: bool, n_startup_trials: int) -> optuna.pruners.BasePruner:
    """Median pruner on per-fold intermediate scores, or none."""
    import optuna

    if prune:
        return optuna.pruners.MedianPruner(n_startup_trials=n_startup_trials, n_warmup_steps=0)
    return optuna.pruners.NopPruner()


def create_or_load_study(
    storage: optuna.storages.BaseStorage,
    sweep_id: str,
    spec: SweepSpec,
    cross_validation: dict[str, int],
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
) -> tuple[optuna.Study, bool]:
    """The study ``sweep_id``: created (with the sweep spec as study attributes) or resumed.

    Resuming with another metric, direction, metrics list, score or cross-validation layout is an
    error: the trial scores would not be comparable. A pareto study has one direction per metric.
    """
    import optuna

    created = sweep_id not in optuna.get_all_study_names(storage)
    study = optuna.create_study(
        storage=storage,
        study_name=sweep_id,
        directions=spec.directions,
        sampler=sampler,
        pruner=pruner,
        load_if_exists=True,
    )
    spec_json = spec.model_dump(mode="json")
    stored_spec = study.user_attrs.get(STUDY_ATTR_SPEC)
    if created or stored_spec is None:
        study.set_user_attr(STUDY_ATTR_SPEC, spec_json)
        study.set_user_attr(STUDY_ATTR_CV, cross_validation)
        return study, created
    _check_compatible(sweep_id, stored_spec, spec_json, study.user_attrs.get(STUDY_ATTR_CV), cross_validation)
    return study, created


def _check_compatible(
    sweep_id: str,
    stored: dict[str, Any],
    current: dict[str, Any],
    stored_cv: dict[str, int] | None,
    cross_validation: dict[str, int],
) -> None:
    defaults: dict[str, Any] = {"metrics": [], "score": None}  # specs stored before metrics / score
    for key in ("metric_name", "direction", "metrics", "score"):
        if stored.get(key, defaults.get(key)) != current[key]:
            raise SweepConfigError(
                f"sweep {sweep_id} optimises {key}={stored.get(key, defaults.get(key))!r}, but the sweep "
                f"file says {current[key]!r}; use a new sweep-id for another objective"
            )
    if stored_cv is not None and stored_cv != cross_validation:
        raise SweepConfigError(
            f"sweep {sweep_id} was created with {stored_cv}, not {cross_validation}: trial scores would "
            "not be comparable; use the same n-folds / n-randoms or a new sweep-id"
        )
    differences = space_differences(stored, current)
    if differences:
        raise SweepConfigError(
            f"sweep {sweep_id} was created with another search space ({'; '.join(differences)}): one study "
            "would mix trials of two spaces; use the sweep file it was created with, or a new sweep-id"
        )


def space_differences(stored: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """What differs between two sweep specs (``SweepSpec.model_dump(mode="json")``), one phrase each."""
    out = []
    if stored.get("method") != current.get("method"):
        out.append(f"method {stored.get('method')!r} -> {current.get('method')!r}")
    for section, what in (("search", "searched"), ("fixed", "fixed")):
        old, new = stored.get(section) or {}, current.get(section) or {}
        for name in sorted(old.keys() - new.keys()):
            out.append(f"{what} parameter '{name}' removed")
        for name in sorted(new.keys() - old.keys()):
            out.append(f"{what} parameter '{name}' added")
        for name in sorted(old.keys() & new.keys()):
            if old[name] != new[name]:
                out.append(f"{what} parameter '{name}': {_short(old[name])} -> {_short(new[name])}")
    return out


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items() if v not in (None, (), [], False)) + "}"
    return repr(value)


def is_multi_objective(study: optuna.Study) -> bool:
    """A pareto study: several directions, no single best trial (``study.best_trial`` raises)."""
    return len(study.directions) > 1


def best_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The best complete trial (a list of one), the Pareto front of a multi-objective study, or []."""
    from optuna.trial import TrialState

    if not any(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False)):
        return []
    if is_multi_objective(study):
        return sorted(study.best_trials, key=lambda t: t.number)
    return [study.best_trial]
