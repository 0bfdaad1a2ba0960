"""A sweep runner process: `python -m darts_test_support.sweep_runner CONFIG_JSON OUTCOME_JSON`."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def main() -> int:
    from darts_sweep import SweepConfig, optuna_sweep_smp

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(name)s: %(message)s")
    config = SweepConfig.model_validate_json(Path(sys.argv[1]).read_text())
    outcome = optuna_sweep_smp(config)
    Path(sys.argv[2]).write_text(outcome.model_dump_json())
    return outcome.exit_code


if __name__ == "__main__":
    sys.exit(main())
