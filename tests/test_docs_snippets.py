"""Every ```python block of docs/ runs, so the documentation cannot drift from the software.

The blocks of one page run in order in one namespace (a later block may use what an earlier one
defined), in a copy of a small quickstart work folder, so the relative paths the pages use exist:

    config.toml  data/planet/ data/labels/ data/arcticdem/ data/tcvis/ data/admin/
    training-set/  artifacts/quickstart-unet/<run id>/  models/rts-unet_2026-11-25.ckpt

A block opts out only with the marker ``<!-- snippet: skip REASON -->`` on the line right above
its opening fence (blank lines between are allowed). Use it for blocks that cannot run here: they
need a GPU, the network, or are not code (an illustration of a file's structure). The reason is
shown in the test report.
"""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCS = REPO_ROOT / "docs"
MODEL_FILE = Path("models/rts-unet_2026-11-25.ckpt")
"""The deployable model file the pages name; the fixture puts the trained model there."""

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)$")
SKIP = re.compile(r"^\s*<!--\s*snippet:\s*skip\s+(?P<reason>.+?)\s*-->\s*$")


@dataclass(frozen=True)
class Snippet:
    """One ```python block of a page."""

    page: Path
    line: int
    """1-based line of the opening fence."""
    code: str
    skip: str | None
    """The reason of a skip marker; None when the block runs."""


def extract_snippets(page: Path) -> list[Snippet]:
    """The python blocks of a markdown page, in order, with their skip markers."""
    lines = page.read_text(encoding="utf-8").splitlines()
    snippets: list[Snippet] = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence = match["indent"], match["fence"]
        language = match["info"].strip().split(" ")[0].lstrip(".").lower() if match["info"].strip() else ""
        end = i + 1
        while end < len(lines) and not (
            lines[end].strip().startswith(fence) and lines[end].strip().strip(fence[0]) == ""
        ):
            end += 1
        if language in ("python", "py"):
            body = "\n".join(
                line[len(indent) :] if line.startswith(indent) else line for line in lines[i + 1 : end]
            )
            snippets.append(Snippet(page, i + 1, textwrap.dedent(body) + "\n", _skip_reason(lines, i)))
        i = end + 1
    return snippets


def _skip_reason(lines: list[str], fence_index: int) -> str | None:
    j = fence_index - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    match = SKIP.match(lines[j]) if j >= 0 else None
    return match["reason"] if match else None


def pages_with_snippets() -> list[Path]:
    return sorted(page for page in DOCS.rglob("*.md") if extract_snippets(page))


def test_extraction_sees_blocks_fences_and_markers(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# t\n\n```python\na = 1\n```\n\n<!-- snippet: skip needs a GPU -->\n\n```py\nb = 2\n```\n"
        '\n```toml\nc = 3\n```\n\n!!! note\n    ```python title="x.py"\n    d = a + 1\n    ```\n'
    )
    snippets = extract_snippets(page)
    assert [s.code for s in snippets] == ["a = 1\n", "b = 2\n", "d = a + 1\n"]
    assert [s.skip for s in snippets] == [None, "needs a GPU", None]
    assert [s.line for s in snippets] == [3, 9, 18]


def test_docs_have_snippets_to_run() -> None:
    pages = {page.relative_to(DOCS).as_posix() for page in pages_with_snippets()}
    assert {"guide/test-convert.md", "formats/checkpoint.md", "formats/training-set.md"} <= pages


@pytest.fixture(scope="session")
def quickstart_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A quickstart work folder: generated data, its training set, one trained run, its model file.

    Smaller than ``darts quickstart --tiny``: 128-pixel scenes and a one-epoch training.
    """
    from darts_cli.quickstart import CONFIG_FILE, QuickstartSummary, prepare_workdir, quickstart_settings
    from darts_cli.quickstart import toml_text as quickstart_toml
    from darts_cli.quickstart_steps import STEPS, QuickstartSize, StepContext

    size = QuickstartSize(
        n_scenes=8, size_px=128, patch_size=64, max_epochs=1, batch_size=4, sweep_max_epochs=1, sweep_trials=1
    )
    workdir = tmp_path_factory.mktemp("docs-snippets") / "quickstart"
    config_file = prepare_workdir(workdir, size)
    settings = quickstart_settings(size)
    settings["training"].update({"check-val-every-n-epoch": 1, "plot-every-n-val-epochs": 0})
    settings["convert"]["checkpoint-name"] = "rts-unet"
    config_file.write_text(quickstart_toml(settings))
    summary = QuickstartSummary(workdir=workdir, config_file=workdir / CONFIG_FILE)
    ctx = StepContext(workdir=workdir, config_file=config_file, size=size, summary=summary)
    wanted = ("generate data", "preprocess", "train", "convert")
    for name, step in STEPS:
        if name in wanted:
            step(ctx, lambda record: None)
    model_file: Path = ctx.state["model_file"]
    model_file.rename(workdir / MODEL_FILE)
    return workdir


@pytest.mark.slow
@pytest.mark.parametrize("page", pages_with_snippets(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_page_snippets_run(
    page: Path, quickstart_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workdir = tmp_path / "work"
    shutil.copytree(quickstart_folder, workdir, symlinks=True)
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
    namespace: dict[str, object] = {"__name__": f"docs_snippet_{page.stem}"}
    ran = 0
    for snippet in extract_snippets(page):
        if snippet.skip is not None:
            continue
        where = f"{page.relative_to(REPO_ROOT)}:{snippet.line}"
        code = compile(snippet.code, where, "exec")
        try:
            exec(code, namespace)
        except Exception as exc:
            pytest.fail(f"the snippet at {where} failed: {type(exc).__name__}: {exc}")
        ran += 1
    if ran == 0:
        pytest.skip("every block of this page is marked skip")
