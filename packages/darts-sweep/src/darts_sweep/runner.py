"""`optuna_sweep_smp`: create, resume and run a cross-validated sweep (one runner)."""

from __future__ import annotations

import json
import logging
import shlex
import signal
from typing import TYPE_CHECKING, Any

from darts_core.errors import SignalInterruptError
from darts_sweep.config import DEFAULT_TRAIN_FN, SweepConfig, SweepOutcome
from darts_sweep.errors import SweepConfigError, SweepSpecError, TrainingRunError
from darts_sweep.options import RUN_MANAGED_OPTIONS
from darts_sweep.spec import SweepSpec, parse_sweep_file
from darts_sweep.study import (
    best_trials,
    check_sweep_id,
    create_or_load_study,
    is_multi_objective,
    make_pruner,
    make_sampler,
    mask_url,
    new_sweep_id,
    open_storage,
    storage_url,
)
from darts_sweep.trial import TrialObjective, check_metric_names, device_options
from darts_train.signals import stop_on_signals

if TYPE_CHECKING:
    import optuna

logger = logging.getLogger(__name__)


def optuna_sweep_smp(config: SweepConfig) -> SweepOutcome:
    """Create or resume the sweep, then (when a device is given) run ``n_trials`` trials on it.

    sweep_id and device as in the reference guide: no sweep_id -> a new sweep; a sweep_id ->
    continue it (created if the storage does not hold it yet); a device -> run n_trials trials there;
    a sweep_id without a device -> error; neither -> create the sweep and run nothing.
    Everything that can be wrong with the sweep file or the training options is rejected here,
    before any trial starts.
    """
    retrain = config.retrain_best or config.retrain_trial is not None
    if retrain and config.sweep_id is None:
        raise SweepConfigError("retrain-best needs --sweep-id: the sweep whose trial is retrained")
    if config.sweep_id is not None and config.sweep_device is None:
        raise SweepConfigError(
            f"sweep-id {config.sweep_id} was given without a device: give --sweep-device (a GPU index, "
            "cpu or auto) to run trials on it, or leave out --sweep-id to create a new sweep"
        )
    spec = parse_sweep_file(config.sweep_config)
    if spec.is_pareto and config.prune:
        raise SweepConfigError(
            f"{config.sweep_config}: score 'pareto' makes a multi-objective study, which Optuna cannot "
            "prune; leave out --prune or combine the metrics into one score"
        )
    if config.train_fn == DEFAULT_TRAIN_FN:  # another training function may log other keys
        check_metric_names(spec)
    validate_train_options(config, spec)
    sweep_id = check_sweep_id(config.sweep_id or new_sweep_id())
    url = storage_url(config.sweep_db, config.artifact_dir, sweep_id)
    storage = open_storage(
        url, config.heartbeat_interval_s, config.grace_period_s or 2 * config.heartbeat_interval_s
    )
    study, created = create_or_load_study(
        storage,
        sweep_id,
        spec,
        {"n_folds": config.n_folds, "n_randoms": config.n_randoms},
        make_sampler(spec, config.sampler_seed),
        make_pruner(config.prune, config.prune_startup_trials),
    )
    command = runner_command(config, sweep_id, url)
    logger.info("%s sweep %s in %s", "created" if created else "resuming", sweep_id, mask_url(url))
    logger.info("start another runner with: %s", command)
    trials_run: list[int] = []
    interrupted_by = None
    if retrain:
        return _retrain(
            study,
            config,
            spec,
            sweep_id,
            _outcome(study, sweep_id, mask_url(url), created, command, [], None),
        )
    if config.sweep_device is not None:
        objective = TrialObjective(config, spec, sweep_id)
        interrupted_by = _run_trials(study, objective, config.n_trials, trials_run)
    return _outcome(study, sweep_id, mask_url(url), created, command, trials_run, interrupted_by)


def _run_trials(
    study: optuna.Study, objective: TrialObjective, n_trials: int, trials_run: list[int]
) -> int | None:
    """Run the trials; the signal number when SIGINT / SIGTERM stopped the runner, else None.

    The trial a signal stops is marked FAIL and queued again, so the next runner reuses its runs.

    Trials left RUNNING by a runner that is gone are failed and queued for one retry before the
    first trial, after each trial and at the end, so a restarted runner picks them up at once.
    """
    from darts_sweep.heartbeat import journal_heartbeat
    from darts_sweep.stale import fail_stale_trials

    config = objective.config
    grace_s = config.grace_period_s or 2 * config.heartbeat_interval_s
    fail_stale_trials(study, grace_s)
    try:
        with stop_on_signals(), journal_heartbeat(study, config.heartbeat_interval_s, grace_s) as heartbeat:
            objective.heartbeat = heartbeat

            def after_trial(_study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
                trials_run.append(trial.number)
                objective.current_trial_id = None
                fail_stale_trials(study, grace_s)

            study.optimize(
                objective,
                n_trials=n_trials,
                catch=(TrainingRunError,),
                callbacks=[after_trial],
                gc_after_trial=True,
            )
    except (KeyboardInterrupt, SignalInterruptError) as err:
        _requeue_interrupted(study, objective.current_trial_id)
        return err.signum if isinstance(err, SignalInterruptError) else signal.SIGINT.value
    fail_stale_trials(study, grace_s)
    return None


def _retrain(
    study: optuna.Study, config: SweepConfig, spec: SweepSpec, sweep_id: str, outcome: SweepOutcome
) -> SweepOutcome:
    """retrain-best: the outcome with the retrain's summary, or marked interrupted by SIGINT / SIGTERM."""
    from darts_sweep.retrain import retrain_trial

    try:
        with stop_on_signals():
            summary, path = retrain_trial(study, config, spec, sweep_id)
    except (KeyboardInterrupt, SignalInterruptError) as err:
        signum = err.signum if isinstance(err, SignalInterruptError) else signal.SIGINT.value
        logger.warning("retrain interrupted: the next call with --retrain-best resumes it")
        return outcome.model_copy(update={"interrupted": True, "interrupt_signal": signum})
    return outcome.model_copy(update={"retrain": summary, "retrain_summary_file": str(path)})


def _requeue_interrupted(study: optuna.Study, trial_id: int | None) -> None:
    """Queue the trial that Ctrl-C or SIGTERM failed again, so the next runner reuses its finished runs."""
    from optuna.trial import TrialState

    from darts_sweep.stale import retry_trial

    trial = study._storage.get_trial(trial_id) if trial_id is not None else None
    if trial is None or trial.state != TrialState.FAIL:
        logger.warning("interrupted: the runner stops")
        return
    retry_trial(study, trial, counts=False)
    logger.warning(
        "interrupted: trial %d is marked failed and queued again; the next runner on this sweep reuses "
        "its %d finished run(s)",
        trial.number,
        len(trial.user_attrs.get("runs", [])),
    )


def validate_train_options(config: SweepConfig, spec: SweepSpec) -> None:
    """Reject, before any trial, options and parameter values that no run could train with."""
    managed = sorted(RUN_MANAGED_OPTIONS & set(config.train_options))
    if managed:
        raise SweepConfigError(f"training option(s) {managed} are set by the sweep for each run; remove them")
    try:
        from darts_train.config import TrainConfig
    except ImportError:  # pragma: no cover - darts_train is a dependency
        return
    base = {**config.train_options, **spec.fixed, **device_options(config.sweep_device)}
    base.update(train_data_dir=config.train_data_dir, n_folds=config.n_folds, fold=0)
    _try_config(TrainConfig, base, "the training options and fixed sweep values")
    for name, param in spec.search.items():
        candidates = param.choices if param.kind == "categorical" else (param.low, param.high)
        for value in candidates:
            _try_config(TrainConfig, {**base, name: value}, f"sweep parameter '{name}' = {value!r}")


def _try_config(cls: Any, options: dict[str, Any], what: str) -> None:
    from pydantic import ValidationError

    try:
        cls(**options)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise SweepSpecError(f"{what} are not valid training options: {problems}") from None


def runner_command(config: SweepConfig, sweep_id: str, url: str) -> str:
    """The command line that starts another runner on this sweep (password masked).

    It repeats the training options, so every runner trains its trials alike.
    """
    parts = [
        "darts",
        "optuna-sweep-smp",
        "--train-data-dir",
        str(config.train_data_dir),
        "--sweep-config",
        str(config.sweep_config),
        "--sweep-db",
        mask_url(config.sweep_db) if config.sweep_db else str(config.artifact_dir / sweep_id / "sweep.db"),
        "--artifact-dir",
        str(config.artifact_dir),
        "--n-trials",
        str(config.n_trials),
        "--n-folds",
        str(config.n_folds),
        "--n-randoms",
        str(config.n_randoms),
        *(["--prune"] if config.prune else []),
        "--sweep-id",
        sweep_id,
    ]
    for name, value in sorted(config.train_options.items()):
        parts.extend(_option_tokens(name, value))
    return shlex.join(parts) + " --sweep-device <DEVICE>"


def _option_tokens(name: str, value: Any) -> list[str]:
    option = "--" + name.replace("_", "-")
    if isinstance(value, bool):
        return [option if value else "--no-" + name.replace("_", "-")]
    if isinstance(value, list | tuple):
        return [option, *map(str, value)]
    if isinstance(value, dict):
        return [option, json.dumps(value)]
    return [option, str(value)]


def _outcome(
    study: optuna.Study,
    sweep_id: str,
    storage: str,
    created: bool,
    command: str,
    trials_run: list[int],
    interrupted_by: int | None,
) -> SweepOutcome:
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    front = best_trials(study)
    best = front[0] if front and not is_multi_objective(study) else None
    return SweepOutcome(
        sweep_id=sweep_id,
        storage=storage,
        created=created,
        runner_command=command,
        trials_run=trials_run,
        n_complete=len(complete),
        n_failed=sum(t.state == TrialState.FAIL for t in trials),
        n_pruned=sum(t.state == TrialState.PRUNED for t in trials),
        best_trial=best.number if best else None,
        pareto_trials=[t.number for t in front] if is_multi_objective(study) else [],
        best_value=best.value if best else None,
        best_params=dict(best.params) if best else {},
        fixed_params=dict(best.user_attrs.get("fixed_params", {})) if best else {},
        interrupted=interrupted_by is not None,
        interrupt_signal=interrupted_by,
        failed_here=[t.number for t in trials if t.number in trials_run and t.state == TrialState.FAIL],
    )
