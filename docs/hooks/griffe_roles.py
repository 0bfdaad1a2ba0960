"""Griffe extension of the API reference: Sphinx roles in docstrings render as inline code.

darts docstrings follow the Google style; names inside them are written as inline code, either
``name`` or with a role (:func:`name`). mkdocstrings renders Markdown, so the role prefix is
dropped here and the name stays code: :func:`darts_train.train_smp` -> `darts_train.train_smp`.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|class|data|mod|meth|attr|exc|obj|const):`~?([^`]+)`")


def strip_roles(text: str) -> str:
    """Docstring text with each Sphinx role replaced by the name in backticks."""
    return ROLE.sub(lambda m: f"`{m.group(1)}`", text)


class SphinxRolesAsCode(griffe.Extension):
    """Rewrite the docstring of every loaded object."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = strip_roles(obj.docstring.value)
