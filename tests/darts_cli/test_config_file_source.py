"""Config-file errors name what named the file: the option or the DARTS_CONFIG_FILE variable."""

from __future__ import annotations

import pytest


def test_darts_config_file_errors_name_the_variable(
    run_cli, workdir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DARTS_CONFIG_FILE", "absent.toml")
    result = run_cli("show-train", "--train-data-dir", "d")
    assert result.code == 2 and "absent.toml" in result.err
    assert "named with DARTS_CONFIG_FILE" in result.err and "--config-file" not in result.err
    (workdir / "broken.toml").write_text("[darts\n")
    monkeypatch.setenv("DARTS_CONFIG_FILE", "broken.toml")
    result = run_cli("show-train", "--train-data-dir", "d")
    assert result.code == 2 and "broken.toml (named with DARTS_CONFIG_FILE): TOML syntax error" in result.err


def test_the_option_is_named_when_it_names_the_file(run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DARTS_CONFIG_FILE", "other.toml")
    result = run_cli("--config-file", "absent.toml", "show-train", "--train-data-dir", "d")
    assert result.code == 2 and "named with --config-file" in result.err
