"""Run names, ids and the artifact layout of a run folder."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from darts_train import (
    RunExistsError,
    create_run_dir,
    generate_run_id,
    generate_run_name,
    naming,
    run_dir_for,
)


def test_layout_plain_and_in_a_trial(tmp_path: Path) -> None:
    assert run_dir_for(tmp_path, "brave-otter", "ab12cd34") == tmp_path / "brave-otter" / "ab12cd34"
    assert (
        run_dir_for(tmp_path, "brave-otter", "ab12cd34", "trial-7")
        == tmp_path / "trial-7" / "brave-otter-ab12cd34"
    )


def test_generated_ids_and_names() -> None:
    ids = {generate_run_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"[a-z0-9]{8}", i) for i in ids)
    assert re.fullmatch(r"[a-z]+(-[a-z]+)+", generate_run_name())


def test_a_taken_generated_id_is_drawn_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "exp" / "taken000").mkdir(parents=True)
    draws = iter(["taken000", "free0000"])
    monkeypatch.setattr(naming, "generate_run_id", lambda: next(draws))
    identity = create_run_dir(tmp_path, "exp", None)
    assert identity.run_dir == tmp_path / "exp" / "free0000" and identity.run_dir.is_dir()


def test_a_taken_user_given_run_is_an_error(tmp_path: Path) -> None:
    create_run_dir(tmp_path, "exp", "fixed001")
    with pytest.raises(RunExistsError, match="continue-from-checkpoint"):
        create_run_dir(tmp_path, "exp", "fixed001")


def test_runners_starting_at_once_get_distinct_folders(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        identities = list(
            pool.map(lambda _: create_run_dir(tmp_path, "same-name", None, "trial-0"), range(32))
        )
    dirs = {i.run_dir for i in identities}
    assert len(dirs) == 32
    assert all(d.parent == tmp_path / "trial-0" and d.name.startswith("same-name-") for d in dirs)
