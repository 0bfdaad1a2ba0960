"""Retrain a sweep's best trial on all of cross-val for each seed, test and convert each model.

Layout below the sweep's artifact folder::

    retrain-best/trial-NNNN/retrain-seed-S/   the training run (train-smp's run folder)
        eval/                                 test-smp on val-test and test
        model/                                the deployable model file
        retrain.json                          the finished seed (written last)
    retrain-best/trial-NNNN/summary.json      mean ± std over the seeds, the files (+ summary.md)

A seed whose ``retrain.json`` exists (with the same training options and its files present) is
reused; a seed without one resumes its run from ``last.ckpt`` (train-smp's resume=auto), so an
interrupted retrain continues where it stopped. Every path is recorded relative, nothing is written
into the study: the retrain works alike from any runner host.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from darts_core.atomic import write_atomically
from darts_core.recorded_paths import record_path, resolve_recorded
from darts_sweep.errors import SweepConfigError, TrainingRunError
from darts_sweep.process import run_in_process
from darts_sweep.retrain_summary import (
    RETRAIN_DIR,
    RetrainSummary,
    SeedResult,
    metric_stats,
    render_summary_markdown,
)
from darts_sweep.trial import TrialObjective, run_seeds, trial_name

if TYPE_CHECKING:
    import optuna

    from darts_sweep.config import SweepConfig
    from darts_sweep.spec import SweepSpec

logger = logging.getLogger(__name__)

RUN_NAME = "retrain"
SEED_FILE = "retrain.json"
SUMMARY_JSON = "summary.json"
SUMMARY_MD = "summary.md"
MODEL_DIR = "model"
EVAL_DIR = "eval"
_HOST_OPTIONS = ("train_data_dir", "artifact_dir", "accelerator", "devices", "num_workers")
"""Options that may differ between hosts without changing what is trained."""


def choose_trial(study: optuna.Study, number: int | None) -> optuna.trial.FrozenTrial:
    """Trial ``number`` (it must be complete), or the best complete trial of a single-objective study."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    complete = [t.number for t in trials if t.state == TrialState.COMPLETE]
    if number is not None:
        found = [t for t in trials if t.number == number]
        if not found:
            raise SweepConfigError(
                f"sweep {study.study_name} has no trial {number} "
                f"(it has {len(trials)} trials, 0..{len(trials) - 1})"
            )
        if found[0].state != TrialState.COMPLETE:
            reason = found[0].user_attrs.get("fail_reason")
            raise SweepConfigError(
                f"trial {number} of sweep {study.study_name} is {found[0].state.name}"
                f"{f' ({reason})' if reason else ''}, not COMPLETE; complete trials: {complete or 'none'}"
            )
        return found[0]
    if not complete:
        raise SweepConfigError(f"sweep {study.study_name} has no complete trial yet: run trials first")
    if len(study.directions) > 1:
        front = sorted(t.number for t in study.best_trials)
        raise SweepConfigError(
            f"sweep {study.study_name} has several objectives; its Pareto front holds trials {front}: "
            "choose one with --retrain-trial N"
        )
    return study.best_trial


def retrain_trial(
    study: optuna.Study, config: SweepConfig, spec: SweepSpec, sweep_id: str
) -> tuple[RetrainSummary, Path]:
    """Retrain, test and convert the chosen trial for each of ``config.n_randoms`` seeds.

    Returns the summary and the path of summary.json. Finished seeds are reused.
    """
    trial = choose_trial(study, config.retrain_trial)
    objective = TrialObjective(config, spec, sweep_id)  # builds each run's options as the trials did
    name = trial_name(trial.number)
    root = objective.sweep_dir / RETRAIN_DIR
    trial_dir = root / name
    logger.info("retraining trial %d of sweep %s in %s", trial.number, sweep_id, trial_dir)
    seeds: list[SeedResult] = []
    reused: list[int] = []
    for seed in run_seeds(config.n_randoms):
        options = objective.run_options(name, dict(trial.params), 0, seed)
        options.update(
            artifact_dir=root,
            final_retrain=True,
            resume="auto",
            run_name=RUN_NAME,
            run_id=f"seed-{seed}",
            trial_name=name,
            wandb_group=f"{sweep_id}-{RETRAIN_DIR}",
        )
        result = _finished_seed(trial_dir, options)
        if result is not None:
            logger.info("trial %d, seed %d: reused (finished before)", trial.number, seed)
            reused.append(seed)
        else:
            result = _retrain_seed(trial_dir, options, config, f"{sweep_id}-{name}-seed-{seed}")
        seeds.append(result)
    summary = RetrainSummary(
        sweep_id=sweep_id,
        trial=trial.number,
        trial_values=list(trial.values or []),
        params=dict(trial.params),
        fixed_params=dict(trial.user_attrs.get("fixed_params", spec.fixed)),
        folder=record_path(trial_dir, objective.sweep_dir),
        seeds=seeds,
        metrics=metric_stats(seeds),
        reused_seeds=reused,
    )
    _write_text(trial_dir / SUMMARY_JSON, summary.model_dump_json(indent=2))
    _write_text(trial_dir / SUMMARY_MD, render_summary_markdown(summary))
    return summary, trial_dir / SUMMARY_JSON


def recorded_options(options: dict[str, Any]) -> dict[str, Any]:
    """The training options that define a seed's model: JSON values, without host-local ones."""
    import json

    kept = {k: v for k, v in options.items() if k not in _HOST_OPTIONS}
    return json.loads(json.dumps(kept, default=str))


def _run_dir(trial_dir: Path, options: dict[str, Any]) -> Path:
    return trial_dir / f"{options['run_name']}-{options['run_id']}"


def _finished_seed(trial_dir: Path, options: dict[str, Any]) -> SeedResult | None:
    """The seed's record when it finished with these options and its files are there, else None."""
    record = _run_dir(trial_dir, options) / SEED_FILE
    if not record.is_file():
        return None
    result = SeedResult.model_validate_json(record.read_text(encoding="utf-8"))
    wanted = recorded_options(options)
    if result.options != wanted:
        changed = sorted(
            k for k in wanted.keys() | result.options.keys() if wanted.get(k) != result.options.get(k)
        )
        raise SweepConfigError(
            f"{record} was retrained with other training options ({', '.join(changed)}); give the options "
            f"of that retrain, or remove {record.parent} to retrain this seed"
        )
    missing = [
        p for p in (result.checkpoint, result.model_file) if not resolve_recorded(p, trial_dir).is_file()
    ]
    if missing:
        logger.warning("%s names missing files %s: the seed is finished again", record, missing)
        return None
    return result


def _retrain_seed(
    trial_dir: Path, options: dict[str, Any], config: SweepConfig, model_name: str
) -> SeedResult:
    """Train (or resume), test and convert one seed; its record is written last."""
    from darts_train import ConvertConfig, TestConfig, TrainConfig, convert_lightning_checkpoint, test_smp

    train_config = TrainConfig(**options)  # rejects bad options before a process starts
    logger.info("retrain seed %d: training on all of cross-val", train_config.random_seed)
    trained = run_in_process(config.train_fn, options, config.start_method)
    if not trained.get("best_checkpoint"):
        raise TrainingRunError(f"retrain run {trained.get('run_dir')} wrote no checkpoint")
    checkpoint = Path(trained["best_checkpoint"])
    run_dir = Path(trained["run_dir"])
    tested = test_smp(
        TestConfig(
            train_data_dir=train_config.train_data_dir,
            model_ckp=checkpoint,
            output_dir=run_dir / EVAL_DIR,
            batch_size=train_config.batch_size,
            num_workers=train_config.num_workers,
            test_device=config.sweep_device if config.sweep_device is not None else "auto",
            wandb_entity=train_config.wandb_entity,
            wandb_project=train_config.wandb_project,
        )
    )
    model_file = _converted(run_dir / MODEL_DIR)
    if model_file is None:
        model_file = convert_lightning_checkpoint(
            ConvertConfig(
                lightning_checkpoint=checkpoint, out_directory=run_dir / MODEL_DIR, checkpoint_name=model_name
            )
        )
    result = SeedResult(
        seed=train_config.random_seed,
        run_dir=record_path(run_dir, trial_dir),
        checkpoint=record_path(checkpoint, trial_dir),
        model_file=record_path(model_file, trial_dir),
        eval_dir=record_path(tested.output_dir, trial_dir),
        epochs_trained=_epochs_trained(run_dir),
        metrics=tested.metrics,
        options=recorded_options(options),
    )
    _write_text(run_dir / SEED_FILE, result.model_dump_json(indent=2))
    return result


def _epochs_trained(run_dir: Path) -> int:
    """Epochs the run trained, from its run.json (0 when it has none)."""
    import json

    from darts_train.train import RUN_FILE

    run_file = run_dir / RUN_FILE
    return int(json.loads(run_file.read_text()).get("epochs_trained", 0)) if run_file.is_file() else 0


def _converted(model_dir: Path) -> Path | None:
    """The deployable file a previous, interrupted call converted already (converting is the last step)."""
    files = sorted(model_dir.glob("*.ckpt")) if model_dir.is_dir() else []
    return files[-1] if files else None


def _write_text(path: Path, text: str) -> None:
    write_atomically(path, lambda fh: fh.write(text.encode("utf-8")))


__all__ = ["RETRAIN_DIR", "choose_trial", "recorded_options", "retrain_trial"]
