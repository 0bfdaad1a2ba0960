"""Parse a wandb sweep YAML file into an Optuna search space (`SweepSpec`).

Every wandb parameter form is either mapped to an Optuna distribution that samples the same set
of values, or rejected here, before any trial starts, with the parameter name and the reason.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict

from darts_sweep.errors import SweepSpecError
from darts_sweep.options import RUN_MANAGED_OPTIONS, training_option_names
from darts_sweep.scoring import MetricGoal, ScoreKind, parse_objectives

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

logger = logging.getLogger(__name__)

_TOP_LEVEL_KEYS = frozenset({"name", "description", "method", "metric", "metrics", "score", "parameters"})
_IGNORED_TOP_LEVEL_KEYS = frozenset({"program", "command", "project", "entity"})
_REJECTED_TOP_LEVEL_KEYS = {
    "early_terminate": "darts stops weak trials with the median pruner instead: use --prune",
    "run_cap": "the number of trials is set by n-trials, per runner",
}
_PARAM_KEYS = frozenset(
    {"value", "values", "probabilities", "min", "max", "distribution", "q", "mu", "sigma"}
)
_BOUNDED = frozenset({"min", "max"})
# distribution -> (required keys, optional keys)
_DIST_KEYS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "constant": (frozenset({"value"}), frozenset()),
    "categorical": (frozenset({"values"}), frozenset({"probabilities"})),
    "int_uniform": (_BOUNDED, frozenset()),
    "uniform": (_BOUNDED, frozenset()),
    "q_uniform": (_BOUNDED, frozenset({"q"})),
    "log_uniform": (_BOUNDED, frozenset()),
    "log_uniform_values": (_BOUNDED, frozenset()),
    "q_log_uniform": (_BOUNDED, frozenset({"q"})),
    "q_log_uniform_values": (_BOUNDED, frozenset({"q"})),
    "inv_log_uniform": (_BOUNDED, frozenset()),
    "inv_log_uniform_values": (_BOUNDED, frozenset()),
}
_UNBOUNDED = {
    "normal": "a normal distribution is unbounded",
    "q_normal": "a quantized normal distribution is unbounded",
    "log_normal": "a log-normal distribution is unbounded",
    "q_log_normal": "a quantized log-normal distribution is unbounded",
    "beta": "Optuna has no beta distribution",
    "q_beta": "Optuna has no beta distribution",
}
_EPS = 1e-9


ParamValue = bool | int | float | str | None
"""A value Optuna can sample for a parameter."""


class SearchParam(BaseModel):
    """One searched parameter, as an Optuna distribution (categorical, int or float)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    kind: Literal["categorical", "int", "float"]
    """Which Optuna distribution holds the parameter."""
    wandb_distribution: str
    """The wandb distribution the sweep file named (or implied)."""
    choices: tuple[bool | int | float | str | None, ...] = ()
    """Categorical choices."""
    low: float | int | None = None
    """Lower bound (inclusive)."""
    high: float | int | None = None
    """Upper bound (inclusive)."""
    step: float | int | None = None
    """Quantization step; None for a continuous float."""
    log: bool = False
    """Sample uniformly in log space."""

    @property
    def bounds(self) -> tuple[float | int, float | int]:
        """``(low, high)`` of an int or float parameter."""
        if self.low is None or self.high is None:
            raise SweepSpecError(
                f"a {self.kind} parameter needs low and high bounds, got {self.low}, {self.high}"
            )
        return self.low, self.high

    def to_distribution(self) -> BaseDistribution:
        """The Optuna distribution."""
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        if self.kind == "categorical":
            return CategoricalDistribution(self.choices)
        low, high = self.bounds
        if self.kind == "int":
            return IntDistribution(int(low), int(high), log=self.log, step=int(self.step or 1))
        return FloatDistribution(float(low), float(high), log=self.log, step=self.step)

    def grid_values(self, name: str) -> list[ParamValue]:
        """Every value of a finite distribution (for the grid sampler)."""
        if self.kind == "categorical":
            return list(self.choices)
        low, high = self.bounds
        if self.kind == "int":
            return list(range(int(low), int(high) + 1, int(self.step or 1)))
        if self.step is None:
            raise SweepSpecError(
                f"parameter '{name}': method 'grid' needs a finite set of values, but "
                f"'{self.wandb_distribution}' over [{self.low}, {self.high}] is continuous; "
                "use values, int bounds or a q_uniform step"
            )
        n = round((high - low) / self.step)
        return [round(low + k * self.step, 12) for k in range(n + 1)]


class SweepSpec(BaseModel):
    """A validated sweep: sampler method, objective and search space."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    name: str | None = None
    """The sweep's name from the file (informational)."""
    method: Literal["random", "bayes", "grid"]
    """Sampler: random -> RandomSampler, bayes -> TPE, grid -> GridSampler (all seeded)."""
    metric_name: str
    """The objective, e.g. ``val0/JaccardIndex`` or ``val/JaccardIndex``."""
    direction: Literal["maximize", "minimize"]
    """Whether the trial value is maximised or minimised (wandb's default goal is minimize); in a
    pareto study the first metric's goal (see ``directions``)."""
    metrics: tuple[MetricGoal, ...] = ()
    """The darts ``metrics:`` list; empty = the single ``metric``."""
    score: ScoreKind | None = None
    """How ``metrics`` make the trial value: arithmetic, geometric, harmonic, min, or pareto (one
    objective per metric)."""
    fixed: dict[str, Any]
    """Parameters with a single value (``value`` / ``constant``), recorded as trial attributes."""
    search: dict[str, SearchParam]
    """Searched parameters."""

    @property
    def objective_metrics(self) -> tuple[MetricGoal, ...]:
        """Every metric the trial value depends on (the single ``metric`` when no list is given)."""
        return self.metrics or (MetricGoal(name=self.metric_name, goal=self.direction),)

    @property
    def is_pareto(self) -> bool:
        """A multi-objective study: one value per metric, no single best trial."""
        return self.score == "pareto"

    @property
    def directions(self) -> list[Literal["maximize", "minimize"]]:
        """The study's directions: one per metric in a pareto study, else the trial value's."""
        return [m.goal for m in self.metrics] if self.is_pareto else [self.direction]

    def distributions(self) -> dict[str, BaseDistribution]:
        """Optuna distributions of the searched parameters."""
        return {name: param.to_distribution() for name, param in self.search.items()}

    def grid_space(self) -> dict[str, list[ParamValue]]:
        """The full grid (raises SweepSpecError for a continuous parameter)."""
        return {name: param.grid_values(name) for name, param in self.search.items()}


def parse_sweep_file(path: str | Path, known_options: Collection[str] | None = None) -> SweepSpec:
    """Read a wandb sweep YAML file and validate it (see `parse_sweep_dict`)."""
    path = Path(path)
    if not path.is_file():
        raise SweepSpecError(f"sweep file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    # Whitespace-only lines (e.g. a stray tab, as in the reference guide's example) are blank lines.
    text = "\n".join("" if not line.strip() else line for line in text.splitlines())
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise SweepSpecError(f"sweep file {path} is not valid YAML: {err}") from err
    return parse_sweep_dict(raw, known_options=known_options, source=str(path))


def parse_sweep_dict(
    raw: object, known_options: Collection[str] | None = None, source: str = "sweep config"
) -> SweepSpec:
    """Validate a wandb sweep configuration (already loaded) and map it to Optuna.

    ``known_options``: the training options a parameter may set; default: the fields of
    ``darts_train.TrainConfig`` (or a built-in list when darts_train is not importable).
    """
    if not isinstance(raw, Mapping):
        raise SweepSpecError(f"{source}: expected a mapping with method, metric and parameters")
    _check_top_level(raw, source)
    method = raw.get("method")
    if method not in ("random", "bayes", "grid"):
        raise SweepSpecError(f"{source}: method must be one of random, bayes, grid, got {method!r}")
    try:
        objectives = parse_objectives(raw, source)
    except ValueError as err:
        raise SweepSpecError(str(err)) from None
    params = raw.get("parameters")
    if not isinstance(params, Mapping) or not params:
        raise SweepSpecError(f"{source}: 'parameters' must be a non-empty mapping of parameter -> range")
    known = set(training_option_names() if known_options is None else known_options)
    fixed: dict[str, Any] = {}
    search: dict[str, SearchParam] = {}
    for name, spec in params.items():
        name = str(name)
        _check_param_name(name, known, source)
        parsed = parse_parameter(name, spec)
        if isinstance(parsed, SearchParam):
            search[name] = parsed
        else:
            fixed[name] = parsed[1]
    sweep = SweepSpec(
        name=raw.get("name"),
        method=method,
        metric_name=objectives.metric_name,
        direction=objectives.direction,
        metrics=objectives.metrics,
        score=objectives.score,
        fixed=fixed,
        search=search,
    )
    if method == "grid":
        sweep.grid_space()  # raises for a continuous parameter, before any trial
    return sweep


def _check_top_level(raw: Mapping[str, Any], source: str) -> None:
    for key in raw:
        if key in _REJECTED_TOP_LEVEL_KEYS:
            raise SweepSpecError(f"{source}: key '{key}' is not supported: {_REJECTED_TOP_LEVEL_KEYS[key]}")
        if key in _IGNORED_TOP_LEVEL_KEYS:
            logger.warning("%s: key '%s' is ignored (darts runs train-smp itself)", source, key)
        elif key not in _TOP_LEVEL_KEYS:
            allowed = ", ".join(sorted(_TOP_LEVEL_KEYS))
            raise SweepSpecError(f"{source}: unknown key '{key}' (expected {allowed})")


def _check_param_name(name: str, known: set[str], source: str) -> None:
    if name in RUN_MANAGED_OPTIONS:
        raise SweepSpecError(f"{source}: parameter '{name}' cannot be swept: the sweep sets it for each run")
    if name not in known:
        import difflib

        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise SweepSpecError(f"{source}: parameter '{name}' is not a training option{hint}")


def parse_parameter(name: str, spec: Any) -> SearchParam | tuple[Literal["fixed"], Any]:
    """Map one wandb parameter entry to a SearchParam, or ("fixed", value) for a constant."""
    if not isinstance(spec, Mapping):
        raise SweepSpecError(f"parameter '{name}': expected a mapping with value, values or min/max")
    unknown = set(spec) - _PARAM_KEYS
    if "parameters" in unknown:
        raise SweepSpecError(f"parameter '{name}': nested parameters are not supported")
    if unknown:
        raise SweepSpecError(
            f"parameter '{name}': unknown key(s) {sorted(unknown)} "
            f"(expected {', '.join(sorted(_PARAM_KEYS))})"
        )
    dist = spec.get("distribution") or _infer_distribution(name, spec)
    if dist in _UNBOUNDED:
        raise SweepSpecError(
            f"parameter '{name}': distribution '{dist}' cannot be expressed in Optuna ({_UNBOUNDED[dist]}; "
            "Optuna samples bounded uniform or log-uniform ranges): use min/max with uniform or "
            "log_uniform_values"
        )
    if dist not in _DIST_KEYS:
        raise SweepSpecError(f"parameter '{name}': unknown distribution {dist!r}")
    required, optional = _DIST_KEYS[dist]
    missing = required - set(spec)
    if missing:
        raise SweepSpecError(f"parameter '{name}': distribution '{dist}' needs {sorted(missing)}")
    extra = set(spec) - required - optional - {"distribution"}
    if extra:
        raise SweepSpecError(f"parameter '{name}': key(s) {sorted(extra)} have no meaning for '{dist}'")
    if dist == "constant":
        return ("fixed", spec["value"])
    if dist == "categorical":
        return _categorical(name, spec)
    return _numeric(name, dist, spec)


def _infer_distribution(name: str, spec: Mapping[str, Any]) -> str:
    if "value" in spec:
        return "constant"
    if "values" in spec:
        return "categorical"
    if "min" in spec or "max" in spec:
        both_int = all(_is_int(spec.get(key)) for key in ("min", "max"))
        return "int_uniform" if both_int else "uniform"
    raise SweepSpecError(f"parameter '{name}': needs value, values, or min and max")


def _categorical(name: str, spec: Mapping[str, Any]) -> SearchParam | tuple[Literal["fixed"], Any]:
    values = spec["values"]
    if not isinstance(values, list) or not values:
        raise SweepSpecError(f"parameter '{name}': 'values' must be a non-empty list")
    for value in values:
        if value is not None and not isinstance(value, bool | int | float | str):
            raise SweepSpecError(
                f"parameter '{name}': value {value!r} is not a scalar; Optuna choices must be "
                "None, bool, int, float or str"
            )
    if len({(type(v), v) for v in values}) != len(values):
        raise SweepSpecError(f"parameter '{name}': 'values' lists a value twice: {values}")
    if "probabilities" in spec:
        _check_probabilities(name, spec["probabilities"], len(values))
    return SearchParam(kind="categorical", wandb_distribution="categorical", choices=tuple(values))


def _check_probabilities(name: str, probabilities: Any, n_values: int) -> None:
    if not isinstance(probabilities, list) or len(probabilities) != n_values:
        raise SweepSpecError(f"parameter '{name}': 'probabilities' must list one number per value")
    if not all(_is_number(p) and p >= 0 for p in probabilities) or not math.isclose(sum(probabilities), 1.0):
        raise SweepSpecError(f"parameter '{name}': 'probabilities' must be non-negative and sum to 1")
    if not all(math.isclose(p, probabilities[0]) for p in probabilities):
        raise SweepSpecError(
            f"parameter '{name}': unequal 'probabilities' {probabilities} cannot be honoured: Optuna "
            "samplers draw categories uniformly (random, grid) or adaptively (bayes/TPE); drop them or "
            "list the values uniformly"
        )


def _numeric(name: str, dist: str, spec: Mapping[str, Any]) -> SearchParam:
    low, high = _number(name, spec, "min"), _number(name, spec, "max")
    if low > high:
        raise SweepSpecError(f"parameter '{name}': min {low} is greater than max {high}")
    q = _number(name, spec, "q") if "q" in spec else 1
    if q <= 0:
        raise SweepSpecError(f"parameter '{name}': q must be positive, got {q}")
    if dist in ("log_uniform", "q_log_uniform", "inv_log_uniform"):  # bounds in exp space
        low, high = (
            (math.exp(-high), math.exp(-low))
            if dist == "inv_log_uniform"
            else (math.exp(low), math.exp(high))
        )
        dist_values = dist.replace("inv_", "").replace("log_uniform", "log_uniform_values")
    else:
        dist_values = dist.replace("inv_", "")
    base = {"wandb_distribution": dist}
    if dist_values == "int_uniform":
        if not (_is_int(low) and _is_int(high)):
            raise SweepSpecError(f"parameter '{name}': int_uniform needs integer min/max, got {low}, {high}")
        return SearchParam(kind="int", low=int(low), high=int(high), **base)
    if dist_values == "uniform":
        return SearchParam(kind="float", low=float(low), high=float(high), **base)
    if dist_values == "q_uniform":
        return _quantized(name, low, high, q, base)
    if low <= 0:
        raise SweepSpecError(f"parameter '{name}': '{dist}' needs a positive range, got min {low}")
    if dist_values == "log_uniform_values":
        return SearchParam(kind="float", low=float(low), high=float(high), log=True, **base)
    # q_log_uniform(_values): Optuna combines a log scale only with integer steps of 1.
    if q != 1:
        raise SweepSpecError(
            f"parameter '{name}': '{dist}' with q={q} cannot be expressed in Optuna, which combines a log "
            "scale only with integer steps of 1; use q: 1 or log_uniform_values"
        )
    lo, hi = math.ceil(low - _EPS), math.floor(high + _EPS)
    if lo > hi:
        raise SweepSpecError(f"parameter '{name}': no integer in [{low}, {high}]")
    return SearchParam(kind="int", low=lo, high=hi, log=True, **base)


def _quantized(name: str, low: float, high: float, q: float, base: dict[str, str]) -> SearchParam:
    """Multiples of q inside [min, max] (wandb's round(X / q) * q)."""
    k_lo, k_hi = math.ceil(low / q - _EPS), math.floor(high / q + _EPS)
    if k_lo > k_hi:
        raise SweepSpecError(f"parameter '{name}': no multiple of q={q} lies in [{low}, {high}]")
    if _is_int(q) and _is_int(low) and _is_int(high):
        return SearchParam(kind="int", low=int(k_lo * q), high=int(k_hi * q), step=int(q), **base)
    return SearchParam(kind="float", low=round(k_lo * q, 12), high=round(k_hi * q, 12), step=float(q), **base)


def _number(name: str, spec: Mapping[str, Any], key: str) -> float | int:
    value = spec[key]
    if isinstance(value, str):  # PyYAML reads 1e-5 (no dot) as a string; wandb accepts it as a number
        try:
            value = float(value)
        except ValueError:
            raise SweepSpecError(f"parameter '{name}': '{key}' must be a number, got {value!r}") from None
    if not _is_number(value) or not math.isfinite(value):
        raise SweepSpecError(f"parameter '{name}': '{key}' must be a finite number, got {value!r}")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
