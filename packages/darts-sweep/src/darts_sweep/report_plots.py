"""The sweep report's PNG plots (Optuna's matplotlib visualisations), written atomically."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import optuna
    from matplotlib.axes import Axes

logger = logging.getLogger(__name__)

SINGLE_OBJECTIVE_PLOTS = ("optimization_history", "parallel_coordinate", "param_importances")
MULTI_OBJECTIVE_PLOTS = ("pareto_front",)


def write_plots(
    study: optuna.Study,
    out_dir: Path,
    n_complete: int,
    has_importances: bool,
    target_names: list[str] | None = None,
) -> list[str]:
    """Write the plots that apply to the study into ``out_dir``; return their file names.

    A single-objective sweep gets the optimisation history, parallel coordinates and (when they
    exist) parameter importances; a multi-objective sweep its Pareto front.
    """
    if n_complete == 0:
        return []
    from optuna.visualization import matplotlib as ovm

    def pareto(s: optuna.Study) -> Axes:
        return ovm.plot_pareto_front(s, target_names=target_names)

    makers: dict[str, Callable[[optuna.Study], Axes]] = {
        "optimization_history": ovm.plot_optimization_history,
        "parallel_coordinate": ovm.plot_parallel_coordinate,
        "param_importances": ovm.plot_param_importances,
        "pareto_front": pareto,
    }
    names = MULTI_OBJECTIVE_PLOTS if len(study.directions) > 1 else SINGLE_OBJECTIVE_PLOTS
    written = []
    for name in names:
        if name == "param_importances" and not has_importances:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ax = makers[name](study)
        except (ValueError, RuntimeError) as err:
            logger.warning("plot %s skipped: %s", name, err)
            continue
        _save(ax, out_dir / f"{name}.png")
        written.append(f"{name}.png")
    return written


def _save(ax: Axes, target: Path) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from darts_core.atomic import temp_beside

    figure = ax.figure
    assert isinstance(figure, Figure)  # optuna draws on a new top-level figure
    with temp_beside(target) as tmp:
        figure.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
        os.replace(tmp, target)
    plt.close(figure)


__all__ = ["MULTI_OBJECTIVE_PLOTS", "SINGLE_OBJECTIVE_PLOTS", "write_plots"]
