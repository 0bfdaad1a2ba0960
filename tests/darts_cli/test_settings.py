"""The config layer through the real entry point: file, environment, options and their errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from darts_cli.errors import ConfigError, ConfigFileNotFoundError
from darts_cli.settings import load_config_file, normalize_key
from darts_test_support.bands import GUIDE_BANDS


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_guide_example_config_loads_with_the_values_it_states(run_cli, workdir: Path, guide_config) -> None:
    shutil.copy(guide_config, workdir / "config.toml")
    sweep = run_cli("show-sweep")
    train = run_cli("show-train")
    pre = run_cli("show-preprocess")
    assert (sweep.code, train.code, pre.code) == (0, 0, 0), sweep.err + train.err + pre.err
    assert sweep.warnings == train.warnings == pre.warnings == []
    assert sweep.config["n_trials"] == 100  # written `n-trials`
    assert sweep.config["n_folds"] == 3  # written `n_folds`
    assert sweep.config["n_randoms"] == 3
    assert sweep.config["sweep_db"] == "postgresql://pguser@localhost:5432/sweeps"
    assert sweep.config["sweep_id"] == "sweep-cv-large-planet"
    assert sweep.config["wandb_entity"] == "your-wandb-username"
    assert sweep.config["sweep_config"] == str(workdir / "configs" / "planet-tcvis-sweep.yaml")
    assert train.config["batch_size"] == 6
    assert train.config["augment"] is True
    assert train.config["num_workers"] == 16
    assert train.config["max_epochs"] == 60
    assert train.config["check_val_every_n_epoch"] == 5
    assert train.config["early_stopping_patience"] == 0
    assert train.config["train_data_dir"].endswith("planet_native_tcvis_896_partial")
    assert pre.config["bands"] == list(GUIDE_BANDS)
    assert pre.config["test_regions"] == ["Taymyrsky Dolgano-Nenetsky District"]
    assert pre.config["tpi_outer_radius_m"] == 100.0  # guide key `tpi-outer-radius` via alias
    assert pre.config["patch_size"] == 896
    assert pre.config["exclude_nan"] is False
    assert pre.config["test_val_split"] == 0.05
    # relative paths resolve against the working directory
    assert pre.config["labels_dir"] == str(
        workdir / ".." / "ML_training_labels" / "retrogressive_thaw_slumps"
    )


def test_sub_tables_flatten_and_both_spellings_match(workdir: Path) -> None:
    path = write(
        workdir / "c.toml",
        '[darts]\nbatch-size = 4\n[darts.a.b]\nmax_epochs = 3\n[darts.c]\n"Patch-Size" = 9\n[other]\nx = 1\n',
    )
    config = load_config_file(path, explicit=True)
    assert {k: e.value for k, e in config.entries.items()} == {
        "batch_size": 4,
        "max_epochs": 3,
        "patch_size": 9,
    }
    assert config.entries["max_epochs"].table == "darts.a.b"
    assert normalize_key("N-Trials") == "n_trials"


def test_precedence_option_over_env_over_file_over_default(run_cli, workdir, monkeypatch) -> None:
    assert run_cli("show-train", "--train-data-dir", "d").config["batch_size"] == 8  # default
    write(workdir / "config.toml", "[darts.training]\nbatch-size = 4\nmax_epochs = 2\ntrain-data-dir = 'd'\n")
    assert run_cli("show-train").config["batch_size"] == 4
    monkeypatch.setenv("DARTS_BATCH_SIZE", "5")
    result = run_cli("show-train")
    assert (result.config["batch_size"], result.config["max_epochs"]) == (5, 2)
    result = run_cli("show-train", "--batch-size", "6")
    assert (result.config["batch_size"], result.config["max_epochs"]) == (6, 2)
    monkeypatch.setenv("darts_max_epochs", "7")  # env names are case-insensitive
    assert run_cli("show-train").config["max_epochs"] == 7


def test_global_options_after_the_command_and_lists_from_env(run_cli, workdir, monkeypatch) -> None:
    write(workdir / "mine.toml", "[darts]\nbands = ['nir']\n")
    assert run_cli("show-preprocess", "--config-file", "mine.toml").config["bands"] == ["nir"]
    monkeypatch.setenv("DARTS_BANDS", '["red", "ndvi"]')
    assert run_cli("--config-file", "mine.toml", "show-preprocess").config["bands"] == ["red", "ndvi"]
    assert run_cli("show-preprocess", "--bands", "blue", "green").config["bands"] == ["blue", "green"]


def test_table_valued_key_is_one_value_and_options_replace_it(run_cli, workdir) -> None:
    write(
        workdir / "config.toml",
        "[darts.sweep]\nn-trials = 2\n[darts.sweep.norm_factors]\nred = 0.5\nnir = 2.0\n",
    )
    result = run_cli("show-sweep")
    assert result.warnings == []
    assert result.config["norm_factors"] == {"red": 0.5, "nir": 2.0}
    assert run_cli("show-sweep", "--norm-factors", '{"blue": 1}').config["norm_factors"] == {"blue": 1.0}


def test_unknown_key_warns_once_with_the_closest_known_key(run_cli, workdir) -> None:
    write(workdir / "config.toml", "[darts.sweep]\nn-trial = 5\nbatch-sise = 3\nzzz-qqq = 1\n")
    result = run_cli("show-sweep")
    assert result.code == 0
    unknown = [w for w in result.warnings if "unknown key" in w]
    assert len(unknown) == 3
    assert any("'n-trial'" in w and "[darts.sweep]" in w and "did you mean 'n_trials'?" in w for w in unknown)
    # the suggestion comes from every command's keys, not only this command's
    assert any("'batch-sise'" in w and "did you mean 'batch_size'?" in w for w in unknown)
    assert any("'zzz-qqq'" in w and "did you mean" not in w for w in unknown)
    assert result.config["n_trials"] == 10


def test_env_accepts_aliases_and_warns_about_unknown_darts_variables(run_cli, workdir, monkeypatch) -> None:
    monkeypatch.setenv("DARTS_TPI_OUTER_RADIUS", "75")  # the guide's key of tpi_outer_radius_m
    monkeypatch.setenv("DARTS_PATCH_SIZE", "32")
    monkeypatch.setenv("DARTS_N_TRIAL", "3")  # typo
    monkeypatch.setenv("DARTS_ZZZ_QQQ", "1")
    monkeypatch.setenv("DARTS_LOG_DIR", str(workdir / "logs"))  # global option: known
    result = run_cli("show-preprocess")
    assert result.code == 0
    assert (result.config["tpi_outer_radius_m"], result.config["patch_size"]) == (75.0, 32)
    unknown = [w for w in result.warnings if "environment variable" in w]
    assert len(unknown) == 2, result.warnings
    assert any("DARTS_N_TRIAL" in w and "did you mean DARTS_N_TRIALS?" in w for w in unknown)
    assert any("DARTS_ZZZ_QQQ" in w and "did you mean" not in w for w in unknown)
    monkeypatch.setenv("DARTS_TPI_INNER_RADIUS", "much")
    result = run_cli("show-preprocess")
    assert result.code == 2 and "DARTS_TPI_INNER_RADIUS" in result.err and "'much'" in result.err


def test_same_key_in_two_sub_tables_warns_and_the_last_wins(run_cli, workdir) -> None:
    write(
        workdir / "config.toml",
        "[darts.a]\nn_trials = 3\nn_folds = 2\n[darts.b]\nn-trials = 4\nn_folds = 2\n",
    )
    result = run_cli("show-sweep")
    assert result.config["n_trials"] == 4
    assert len(result.warnings) == 1  # same value twice (n_folds) is fine
    assert (
        "'n_trials'" in result.warnings[0]
        and "[darts.a]" in result.warnings[0]
        and "[darts.b]" in result.warnings[0]
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[tool]\nx = 1\n", "[darts] table is missing"),
        ("darts = 3\n", "[darts] table is not a table"),
        ("[darts\nn_trials = 3\n", "TOML syntax error"),
    ],
)
def test_broken_file_exits_2_naming_the_file(run_cli, workdir, text: str, expected: str) -> None:
    write(workdir / "config.toml", text)
    result = run_cli("show-sweep")
    assert result.code == 2
    assert expected in result.err
    assert str(workdir / "config.toml") in result.err
    with pytest.raises(ConfigError, match=r"config\.toml"):
        load_config_file(workdir / "config.toml", explicit=False)


def test_wrong_type_names_file_key_value_and_expected_type(run_cli, workdir) -> None:
    write(workdir / "config.toml", "[darts.hyperparameters]\nbatch-size = 'six'\ntrain-data-dir = 'd'\n")
    result = run_cli("show-train")
    assert result.code == 2
    line = " ".join(result.err.split())
    assert str(workdir / "config.toml") in line
    assert "'batch-size'" in line and "[darts.hyperparameters]" in line
    assert "'six'" in line and "expected int" in line


def test_wrong_type_in_env_and_option_and_missing_required(run_cli, workdir, monkeypatch) -> None:
    result = run_cli("show-train")
    assert result.code == 2 and "missing required setting 'train_data_dir'" in result.err
    assert "--train-data-dir" in result.err and "DARTS_TRAIN_DATA_DIR" in result.err
    monkeypatch.setenv("DARTS_MAX_EPOCHS", "lots")
    result = run_cli("show-train", "--train-data-dir", "d")
    assert result.code == 2 and "DARTS_MAX_EPOCHS" in result.err and "'lots'" in result.err
    monkeypatch.setenv("DARTS_BANDS", "[not json")
    result = run_cli("show-preprocess")
    assert result.code == 2 and "DARTS_BANDS" in result.err
    result = run_cli("show-train", "--train-data-dir", "d", "--batch-size", "x")
    assert result.code == 2 and "--batch-size" in result.err


def test_missing_config_files(run_cli, workdir) -> None:
    assert run_cli("show-train", "--train-data-dir", "d").code == 0  # no ./config.toml: fine
    result = run_cli("--config-file", "absent.toml", "show-train", "--train-data-dir", "d")
    assert result.code == 2 and "absent.toml" in result.err and "does not exist" in result.err
    result = run_cli("--config-file", "absent.toml", "fail-darts")  # also for commands without a model
    assert result.code == 2
    with pytest.raises(ConfigFileNotFoundError):
        load_config_file(workdir / "absent.toml", explicit=True)


GUIDE_VALUES = {
    "n_trials": 100,
    "n_folds": 3,
    "n_randoms": 3,
    "sweep_id": "sweep-cv-large-planet",
    "sweep_db": "postgresql://pguser@localhost:5432/sweeps",
    "wandb_project": "darts",
    "wandb_entity": "your-wandb-username",
    "num_workers": 16,
    "max_epochs": 60,
    "log_every_n_steps": 100,
    "check_val_every_n_epoch": 5,
    "plot_every_n_val_epochs": 4,
    "early_stopping_patience": 0,
    "batch_size": 6,
    "ee_project": "your-ee-project",
    "tpi_outer_radius": 100,
    "tpi_outer_radius_m": 100,
    "tpi_inner_radius": 0,
    "tpi_inner_radius_m": 0,
    "bands": list(GUIDE_BANDS),
    "patch_size": 896,
    "overlap": 0,
    "exclude_nopositive": False,
    "exclude_nan": False,
    "test_val_split": 0.05,
    "test_regions": ["Taymyrsky Dolgano-Nenetsky District"],
    "data_dir": "/large-storage/planet_data",
    "train_data_dir": "/fast-storage/darts-nextgen/data/training/planet_native_tcvis_896_partial",
    "artifact_dir": "/large-storage/darts-nextgen/artifacts",
}


def _plain(value: object) -> object:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, Path) else value


def test_guide_example_config_gives_the_real_commands_the_values_it_states(
    guide_config, workdir, caplog
) -> None:
    from darts_cli.registry import settings_models
    from darts_cli.settings import KnownKeys, RunContext, build_config

    models = settings_models()
    ctx = RunContext(command="test", config_file=guide_config, config_file_explicit=True)
    checked = set()
    for command, model in models.items():
        try:
            config = build_config(model, {}, ctx)
        except ConfigError as exc:  # a command that needs more than the guide gives (e.g. a checkpoint)
            assert "invalid value" not in str(exc), (command, str(exc))
            continue
        for name, expected in GUIDE_VALUES.items():
            if name in type(config).model_fields:
                assert _plain(getattr(config, name)) == expected, (command, name)
                checked.add(name)
    # every key of the guide's file is known to some command, and the main ones arrive
    assert [r.getMessage() for r in caplog.records if "unknown key" in r.getMessage()] == []
    known = KnownKeys.from_models(models.values())
    assert set(ctx.config().entries) - set(known.keys) == set()
    expected = {"n_trials", "n_folds", "n_randoms", "sweep_db", "batch_size", "bands", "test_regions"}
    assert expected <= checked, expected - checked


def test_balanced_sampling_options_reach_the_real_train_command(workdir) -> None:
    from darts_cli.registry import settings_models
    from darts_cli.settings import RunContext, build_config

    model = settings_models()["train-smp"]
    file = write(workdir / "config.toml", "[darts.training]\ntrain-data-dir = 'd'\nsamples-per-epoch = 64\n")
    ctx = RunContext(command="train-smp", config_file=file, config_file_explicit=True)
    config = build_config(model, {"sampling": "balanced", "positive_ratio": 0.3}, ctx)
    assert (config.sampling, config.positive_ratio, config.samples_per_epoch) == ("balanced", 0.3, 64)
    with pytest.raises(ConfigError, match="sampling"):
        build_config(model, {"sampling": "oversample"}, ctx)


def test_list_or_scalar_option_takes_tokens_json_or_a_word(run_cli, workdir) -> None:
    def devices(*tokens: str) -> object:
        result = run_cli("show-train", "--train-data-dir", "d", "--devices", *tokens)
        assert result.code == 0, result.err
        return result.config["devices"]

    assert devices("0", "1") == [0, 1]
    assert devices("[0, 1]") == [0, 1]
    assert devices("2") == 2
    assert devices("cpu") == "cpu"
    assert run_cli("show-train", "--train-data-dir", "d", "--devices", "gpu0").code == 2
