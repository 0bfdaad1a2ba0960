"""mkdocs hook: add the generated reference pages and fill generated tables on every build."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from mkdocs.structure.files import File, Files

_GENERATOR = Path(__file__).resolve().parents[1] / "gen_reference.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("darts_docs_gen_reference", _GENERATOR)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the docs generator at {_GENERATOR}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def on_files(files: Files, config: Any) -> Files:
    """Add reference/config-keys.md and reference/cli.md, built from the code."""
    gen = _generator()
    for src_uri, make in gen.GENERATED_PAGES.items():
        existing = files.get_file_from_path(src_uri)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, src_uri, content=make()))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """Replace ``<!-- darts:... -->`` markers with tables generated from the code."""
    if "<!-- darts:" not in markdown:
        return markdown
    gen = _generator()
    for marker, make in gen.MARKERS.items():
        if marker in markdown:
            markdown = markdown.replace(marker, make())
    return markdown
