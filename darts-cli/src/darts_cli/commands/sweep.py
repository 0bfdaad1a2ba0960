"""`darts optuna-sweep-smp`: Create, resume or run a cross-validated Optuna hyperparameter sweep."""

from __future__ import annotations

from darts_cli.errors import NotImplementedYetError
from darts_cli.options import darts_command


@darts_command()
def optuna_sweep_smp() -> int:
    """Create, resume or run a cross-validated Optuna hyperparameter sweep."""
    raise NotImplementedYetError("optuna-sweep-smp")
