"""Label values of a training set's ``y`` (and of every target a model is scored on)."""

from __future__ import annotations

LABEL_BACKGROUND = 0
"""A pixel without RTS."""
LABEL_RTS = 1
"""A pixel inside an RTS label polygon."""
LABEL_IGNORE = 2
"""A pixel without valid data or outside the labelled area: no loss, no metric counts it."""

__all__ = ["LABEL_BACKGROUND", "LABEL_IGNORE", "LABEL_RTS"]
