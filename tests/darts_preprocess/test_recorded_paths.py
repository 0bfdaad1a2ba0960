"""A training set's config.toml records its own paths relative to the set, so a copy stands alone."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from darts_core.errors import DartsInputError
from darts_core.recorded_paths import record_path, resolve_recorded
from darts_core.trainset_layout import LAYOUT_VERSION, write_training_set_config
from darts_preprocess.config import PlanetPreprocessConfig
from darts_preprocess.stage_settings import option_record, set_record
from darts_preprocess.trainset.existing import check_existing_set


def test_record_path_is_relative_below_the_folder_and_absolute_elsewhere(tmp_path: Path) -> None:
    base = tmp_path / "set"
    assert record_path(base, base) == "."
    assert record_path(base / "a" / "b.txt", base) == "a/b.txt"
    assert record_path(tmp_path / "labels", base) == str(tmp_path / "labels")
    assert record_path(base / ".." / "x", base) == str(tmp_path / "x")  # '..' never recorded
    assert resolve_recorded("a/b.txt", tmp_path / "copy") == tmp_path / "copy" / "a" / "b.txt"
    assert resolve_recorded(str(tmp_path / "labels"), tmp_path / "copy") == tmp_path / "labels"


def make_config(tmp_path: Path, train_data_dir: Path, **kw: object) -> PlanetPreprocessConfig:
    return PlanetPreprocessConfig(
        data_dir=tmp_path / "planet",
        labels_dir=tmp_path / "labels",
        train_data_dir=train_data_dir,
        preprocess_cache=train_data_dir / "cache",
        **kw,
    )


def test_the_set_records_its_own_paths_relative(tmp_path: Path) -> None:
    record = option_record(make_config(tmp_path, tmp_path / "set"))
    assert record["train_data_dir"] == "."
    assert record["preprocess_cache"] == "cache"
    assert record["labels_dir"] == str(tmp_path / "labels")  # outside the set: absolute


def test_a_copied_set_matches_its_settings_at_the_new_place(tmp_path: Path) -> None:
    original = tmp_path / "set"
    original.mkdir()
    write_training_set_config(original, option_record(make_config(tmp_path, original)))
    copy = tmp_path / "elsewhere" / "set-copy"
    shutil.copytree(original, copy)
    check_existing_set(set_record(make_config(tmp_path, copy)), overwrite=False)  # same settings: no error
    with pytest.raises(DartsInputError, match="patch_size"):
        check_existing_set(set_record(make_config(tmp_path, copy, patch_size=128)), overwrite=False)


def test_sets_written_with_absolute_paths_still_match(tmp_path: Path) -> None:
    root = tmp_path / "set"
    root.mkdir()
    record = option_record(make_config(tmp_path, root))
    record.update(train_data_dir=str(root), preprocess_cache=str(root / "cache"))
    write_training_set_config(root, record)
    check_existing_set(set_record(make_config(tmp_path, root)), overwrite=False)


def test_the_cli_resolves_a_copied_sets_paths_against_its_folder(tmp_path: Path) -> None:
    from darts_cli.settings import RunContext, build_config

    original = tmp_path / "set"
    original.mkdir()
    record = {**option_record(make_config(tmp_path, original)), "layout_version": LAYOUT_VERSION}
    write_training_set_config(original, record)
    copy = tmp_path / "copies" / "set"
    shutil.copytree(original, copy)
    assert tomllib.loads((copy / "config.toml").read_text())["darts"]["train_data_dir"] == "."
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    ctx = RunContext(command="t", config_file=copy / "config.toml", config_file_explicit=True, cwd=elsewhere)
    config = build_config(PlanetPreprocessConfig, {}, ctx)
    assert config.train_data_dir == copy
    assert config.preprocess_cache == copy / "cache"
    assert config.labels_dir == tmp_path / "labels"
