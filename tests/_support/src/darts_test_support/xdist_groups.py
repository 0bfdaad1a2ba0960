"""Work units of the parallel test run (pytest-xdist): which tests run together in one worker.

A worker runs a whole group, so a session or module fixture is built once per group, as in a serial
run: the tests of one package folder share their folder's session fixtures (a trained run, a
synthetic collection) and stay together; the end-to-end and documentation modules, and the package
modules listed in :data:`OWN_GROUP`, are groups of their own. Groups start longest first
(:data:`LONGEST_FIRST`, measured), so the two workers finish at about the same time.

(xdist's own ``xdist_group`` marks do not group under pytest 9, which ignores the node id they
rewrite; :class:`GroupScheduling` derives the group from the node id instead.)
"""

from __future__ import annotations

import pytest
from xdist.scheduler import LoadScopeScheduling

OWN_GROUP = frozenset(
    {
        "darts_train/test_ddp.py",
        "darts_sweep/test_real_training.py",
        "darts_sweep/test_parallel.py",
        "darts_sweep/test_runner.py",
        "darts_sweep/test_failures.py",
    }
)
"""Package test modules that use no session fixture worth sharing and run long on their own."""

LONGEST_FIRST = (
    "e2e/test_quickstart.py",
    "darts_train/test_ddp.py",
    "darts_sweep/test_real_training.py",
    "darts_sweep/test_parallel.py",
    "e2e/test_signals.py",
    "darts_segment",
    "darts_sweep",
    "darts_preprocess",
    "darts_train",
    "darts_models",
    "darts_dataset",
    "test_docs_notebook.py",
    "test_docs_snippets.py",
    "e2e/test_preprocess.py",
    "e2e/test_datacubes.py",
)
"""Groups that take longest, slowest first (seconds of the serial run); the rest follow."""


def group_name(nodeid: str) -> str:
    """The group of a test: its package folder, or its module (see the module docstring)."""
    relative = nodeid.split("::", 1)[0].removeprefix("tests/")
    folder = relative.split("/", 1)[0]
    if "/" not in relative or folder == "e2e" or relative in OWN_GROUP:
        return relative
    return folder


def longest_groups_first(items: list[pytest.Item]) -> None:
    """Order ``items`` by :data:`LONGEST_FIRST` of their groups; the order within a group is kept."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(group_name(item.nodeid), len(rank)))


class GroupScheduling(LoadScopeScheduling):
    """xdist's load-scope scheduling with :func:`group_name` as the scope (``--dist loadgroup``)."""

    def _split_scope(self, nodeid: str) -> str:
        return group_name(nodeid)
