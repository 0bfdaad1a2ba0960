"""Sweep file parsing: every wandb parameter form, the guide's file, every rejection."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from darts_sweep import SweepSpecError, parse_sweep_dict, parse_sweep_file
from darts_sweep.spec import parse_parameter
from darts_test_support.paths import GUIDE_SWEEP_FILE


def sweep(parameters: dict, method: str = "random", **top: object) -> dict:
    return {
        "method": method,
        "metric": {"name": "val/JaccardIndex", "goal": "maximize"},
        "parameters": parameters,
        **top,
    }


def dist(spec: dict):
    parsed = parse_parameter("learning_rate", spec)
    return parsed.to_distribution()


def test_guide_sweep_file_loads_unchanged() -> None:
    spec = parse_sweep_file(GUIDE_SWEEP_FILE)
    assert spec.method == "random"
    assert (spec.metric_name, spec.direction) == ("val0/JaccardIndex", "maximize")
    assert spec.fixed == {"gamma": 0.997}
    dists = spec.distributions()
    assert dists["learning_rate"] == FloatDistribution(1e-5, 1e-3, log=True)
    assert dists["focal_loss_alpha"] == FloatDistribution(0.8, 0.99)
    assert dists["focal_loss_gamma"] == FloatDistribution(0.0, 2.0)
    assert dists["model_arch"] == CategoricalDistribution(["Unet", "MAnet", "UPerNet", "Segformer"])
    assert len(dists["model_encoder"].choices) == 5


def test_value_is_fixed_and_constant_too() -> None:
    assert parse_parameter("gamma", {"value": 0.9}) == ("fixed", 0.9)
    assert parse_parameter("gamma", {"distribution": "constant", "value": 0.5}) == ("fixed", 0.5)
    assert parse_parameter("bands", {"value": ["red", "nir"]}) == ("fixed", ["red", "nir"])


def test_values_and_uniform_probabilities_are_categorical() -> None:
    assert dist({"values": [1, 2, 4]}) == CategoricalDistribution([1, 2, 4])
    assert dist({"distribution": "categorical", "values": ["a", "b"]}) == CategoricalDistribution(["a", "b"])
    assert dist({"values": ["a", "b"], "probabilities": [0.5, 0.5]}) == CategoricalDistribution(["a", "b"])


def test_min_max_infers_int_or_float() -> None:
    assert dist({"min": 2, "max": 16}) == IntDistribution(2, 16)
    assert dist({"min": 0.0, "max": 2}) == FloatDistribution(0.0, 2.0)
    assert dist({"min": "1e-5", "max": 0.1}) == FloatDistribution(1e-5, 0.1)  # PyYAML reads 1e-5 as a string


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"distribution": "int_uniform", "min": 1, "max": 8}, IntDistribution(1, 8)),
        ({"distribution": "uniform", "min": 1, "max": 8}, FloatDistribution(1.0, 8.0)),
        (
            {"distribution": "q_uniform", "min": 0.0, "max": 1.0, "q": 0.25},
            FloatDistribution(0.0, 1.0, step=0.25),
        ),
        (
            {"distribution": "q_uniform", "min": 0.05, "max": 0.98, "q": 0.1},
            FloatDistribution(0.1, 0.9, step=0.1),
        ),
        ({"distribution": "q_uniform", "min": 2, "max": 17, "q": 4}, IntDistribution(4, 16, step=4)),
        (
            {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-2},
            FloatDistribution(1e-5, 1e-2, log=True),
        ),
        (
            {"distribution": "inv_log_uniform_values", "min": 0.01, "max": 1.0},
            FloatDistribution(0.01, 1.0, log=True),
        ),
        (
            {"distribution": "q_log_uniform_values", "min": 2, "max": 64, "q": 1},
            IntDistribution(2, 64, log=True),
        ),
        ({"distribution": "q_log_uniform_values", "min": 2, "max": 64}, IntDistribution(2, 64, log=True)),
    ],
)
def test_numeric_distributions(spec: dict, expected: object) -> None:
    assert dist(spec) == expected


def test_exp_space_bounds() -> None:
    d = dist({"distribution": "log_uniform", "min": math.log(1e-4), "max": math.log(1e-1)})
    assert isinstance(d, FloatDistribution) and d.log
    assert math.isclose(d.low, 1e-4) and math.isclose(d.high, 1e-1)
    d = dist({"distribution": "inv_log_uniform", "min": 0.0, "max": math.log(100.0)})
    assert math.isclose(d.low, 0.01) and math.isclose(d.high, 1.0) and d.log
    d = dist({"distribution": "q_log_uniform", "min": math.log(2), "max": math.log(64)})
    assert d == IntDistribution(2, 64, log=True)


@pytest.mark.parametrize("name", ["normal", "q_normal", "log_normal", "q_log_normal", "beta", "q_beta"])
def test_unbounded_distributions_are_rejected_with_reason(name: str) -> None:
    with pytest.raises(
        SweepSpecError, match=rf"parameter 'learning_rate': distribution '{name}' cannot be expressed"
    ):
        parse_parameter("learning_rate", {"distribution": name, "mu": 0.0, "sigma": 1.0})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"values": ["a", "b"], "probabilities": [0.9, 0.1]}, "cannot be honoured"),
        ({"values": ["a", "b"], "probabilities": [0.5]}, "one number per value"),
        ({"values": ["a", "b"], "probabilities": [0.6, 0.6]}, "sum to 1"),
        ({"values": []}, "non-empty list"),
        ({"values": "Unet"}, "non-empty list"),
        ({"values": [[1, 2], [3]]}, "not a scalar"),
        ({"values": [1, 1]}, "twice"),
        ({"min": 5, "max": 1}, "min 5 is greater than max 1"),
        ({"min": 1e-2, "max": 1e-5, "distribution": "log_uniform_values"}, "greater than max"),
        ({"min": 0.0, "max": 1.0, "distribution": "log_uniform_values"}, "positive range"),
        ({"min": 1, "max": 10, "distribution": "q_log_uniform_values", "q": 2}, "combines a log scale only"),
        ({"min": 0.1, "max": 0.2, "distribution": "q_uniform", "q": 0.5}, "no multiple of q"),
        ({"min": 0.5, "max": 2, "distribution": "int_uniform"}, "integer min/max"),
        ({"min": 1}, "needs \\['max'\\]"),
        ({"min": "abc", "max": 1.0}, "'min' must be a number"),
        ({"min": 0.0, "max": float("inf")}, "finite number"),
        ({"value": 1, "q": 2}, "no meaning for 'constant'"),
        ({"min": 0.0, "max": 1.0, "q": 0.1}, "no meaning for 'uniform'"),
        ({"min": 0.0, "max": 1.0, "distribution": "gaussian"}, "unknown distribution"),
        ({"max_value": 3}, "unknown key"),
        ({"parameters": {"a": {"value": 1}}}, "nested parameters"),
        ({}, "needs value, values, or min and max"),
        (0.001, "expected a mapping"),
    ],
)
def test_parameter_rejections_name_parameter_and_reason(spec: object, message: str) -> None:
    with pytest.raises(SweepSpecError, match=message) as info:
        parse_parameter("learning_rate", spec)
    assert "'learning_rate'" in str(info.value)


def test_unknown_parameter_rejected_with_suggestion() -> None:
    with pytest.raises(
        SweepSpecError, match="'learning_rat' is not a training option \\(did you mean 'learning_rate'"
    ):
        parse_sweep_dict(sweep({"learning_rat": {"value": 1e-3}}))


def test_run_managed_parameter_rejected() -> None:
    with pytest.raises(SweepSpecError, match="'fold' cannot be swept"):
        parse_sweep_dict(sweep({"fold": {"values": [0, 1]}}))


def test_known_options_fallback_list_is_used_when_given() -> None:
    spec = parse_sweep_dict(sweep({"my_option": {"values": [1, 2]}}), known_options={"my_option"})
    assert set(spec.search) == {"my_option"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"metric": {"name": "val/loss"}, "parameters": {"gamma": {"value": 0.9}}}, "method must be one of"),
        (sweep({"gamma": {"value": 0.9}}, method="hyperband"), "method must be one of"),
        ({"method": "random", "parameters": {"gamma": {"value": 0.9}}}, "'metric' must be a mapping"),
        (
            {
                "method": "random",
                "metric": {"name": "x", "goal": "up"},
                "parameters": {"gamma": {"value": 1}},
            },
            "goal",
        ),
        (
            {
                "method": "random",
                "metric": {"name": "x", "target": 0.9},
                "parameters": {"gamma": {"value": 1}},
            },
            "unknown key",
        ),
        (sweep({}), "non-empty mapping"),
        (sweep({"gamma": {"value": 0.9}}, early_terminate={"type": "hyperband"}), "--prune"),
        (sweep({"gamma": {"value": 0.9}}, run_cap=10), "n-trials"),
        (sweep({"gamma": {"value": 0.9}}, paramters={}), "unknown key 'paramters'"),
        ([1, 2], "expected a mapping"),
    ],
)
def test_top_level_rejections(raw: object, message: str) -> None:
    with pytest.raises(SweepSpecError, match=message):
        parse_sweep_dict(raw)


def test_program_and_command_are_ignored() -> None:
    spec = parse_sweep_dict(sweep({"gamma": {"value": 0.9}}, program="train.py", command=["x"]))
    assert spec.fixed == {"gamma": 0.9}


def test_goal_defaults_to_minimize_like_wandb() -> None:
    raw = {"method": "bayes", "metric": {"name": "val/loss"}, "parameters": {"gamma": {"value": 0.9}}}
    assert parse_sweep_dict(raw).direction == "minimize"


def test_grid_needs_finite_space() -> None:
    spec = parse_sweep_dict(
        sweep(
            {
                "batch_size": {"values": [2, 4]},
                "learning_rate": {"distribution": "q_uniform", "min": 0.1, "max": 0.3, "q": 0.1},
            },
            method="grid",
        )
    )
    assert spec.grid_space() == {"batch_size": [2, 4], "learning_rate": [0.1, 0.2, 0.3]}
    with pytest.raises(SweepSpecError, match="parameter 'learning_rate': method 'grid' needs a finite set"):
        parse_sweep_dict(sweep({"learning_rate": {"min": 1e-4, "max": 1e-2}}, method="grid"))


def test_sweep_file_errors(tmp_path: Path) -> None:
    with pytest.raises(SweepSpecError, match="does not exist"):
        parse_sweep_file(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("method: [random\n")
    with pytest.raises(SweepSpecError, match="not valid YAML"):
        parse_sweep_file(bad)
