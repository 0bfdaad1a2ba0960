"""The `darts` commands, one module each; every module follows the pattern below.

A command module is thin wiring: it declares which library config model it takes, and its body
builds nothing by hand, calls one library function, shows the result and returns an exit code.

Example (`commands/train.py`)::

    \"\"\"`darts train-smp`: one training run on a fold of cross-val (or the final retrain).\"\"\"

    from __future__ import annotations

    import logging

    from darts_train.config import TrainConfig  # cheap: pydantic only, no torch at import time

    from darts_cli.options import darts_command

    logger = logging.getLogger(__name__)


    @darts_command(TrainConfig)
    def train_smp(config: TrainConfig) -> int:
        \"\"\"Train one segmentation model on a fold of cross-val (or on all of it).\"\"\"
        from darts_train import train_smp as run  # heavy imports inside the body

        result = run(config)
        logger.info("run %s: best checkpoint %s", result.run_name, result.best_checkpoint)
        return 0

What `@darts_command(Model)` gives you:

- Options: one keyword option per field of `Model` (`batch_size` -> `--batch-size`), help text
  = the field docstring (`use_attribute_docstrings=True`) plus its default. Lists take several
  values (`--bands blue green red`); dict / nested-model fields take JSON text.
- `config`: a validated `Model` built by `darts_cli.settings.build_config` with the precedence
  option > `DARTS_<FIELD_NAME>` environment > config file `[darts]` (flattened, dashes or
  underscores) > the model's default. Relative paths are made absolute against the working dir.
  Keys of the guide that differ from a field name: give the field
  `validation_alias=AliasChoices("tpi_outer_radius_m", "tpi_outer_radius")`; the file and the
  environment (`DARTS_TPI_OUTER_RADIUS`) then accept both (options use the field name).
- Errors: raise the library's `DartsError` subclasses and let them propagate. The CLI prints one
  line and exits 1 (`DartsError`), 2 (`ConfigError`, pydantic `ValidationError`), 130 (Ctrl-C),
  1 for anything else (traceback in the log file of `--log-dir`).
- A command without a model: `@darts_command()` on `def cmd() -> int`.

Rules:

- Keep the function name: `darts_cli.registry.COMMANDS` points at `module:function` (ask the cli
  helper to change an entry). The one-line help of `darts --help` also lives there.
- Importing the module must stay cheap: every command run imports all command modules to learn
  the keys all commands know (for the unknown-key warning). So import your config model from a
  module that does not import torch / lightning / optuna / wandb, and import the heavy library
  function inside the body.
- Field names `config_file`, `log_dir`, `verbose`, `ctx`, `help`, `version` are taken by the
  global options; do not use them in a command's model.
- Messages through `logging`; tables and results through `rich.console.Console().print`.
- Test through the real entry point: `darts_cli.app.main([...])` inside
  `pytest.raises(SystemExit)` (check `.value.code`), after `monkeypatch.chdir(tmp_path)` so that
  no stray `config.toml` is read; pass `--log-dir` to a tmp dir.
"""
