"""darts_core: what every darts package shares, and nothing heavy.

The error hierarchy (:mod:`darts_core.errors`), the band registry (:mod:`darts_core.bands`), the label
values (:mod:`darts_core.labels`), the training-set layout (:mod:`darts_core.trainset_layout`, zarr
loads on first use), atomic writes (:mod:`darts_core.atomic`), the lazy-import helper of every
package ``__init__`` (:mod:`darts_core.lazy`), renamed config keys and recorded paths. It depends on
numpy, pydantic and tomli-w; zarr comes with the ``trainset`` extra (``darts-core[trainset]``).

Quick example::

    import numpy as np
    from darts_core import LABEL_IGNORE, norm_factors, normalize_bands

    x = normalize_bands({"red": np.full((4, 4), 1500.0)}, ["red"])  # float32 [1, 4, 4] in [0, 1]
    assert x.max() == 0.5 and norm_factors(["red"]) == {"red": 1 / 3000} and LABEL_IGNORE == 2
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from darts_core.atomic import atomic_dir, atomic_path, write_atomically, write_text_atomically
from darts_core.bands import (
    BANDS,
    OPTICAL_BANDS,
    BandKind,
    BandSpec,
    check_bands,
    norm_factors,
    normalize_bands,
)
from darts_core.errors import (
    CheckpointError,
    DartsConfigError,
    DartsError,
    DartsFileNotFoundError,
    DartsInputError,
    DiskFullError,
    SignalInterruptError,
    TrainingSetError,
    UnknownBandError,
)
from darts_core.labels import LABEL_BACKGROUND, LABEL_IGNORE, LABEL_RTS
from darts_core.lazy import lazy_attributes

if TYPE_CHECKING:
    from darts_core.trainset_layout import SPLITS, PatchBatch, SceneInfo, SplitWriter, split_path

# zarr loads when the training-set layout is first used
_LAZY: dict[str, str] = {
    "SPLITS": ".trainset_layout",
    "PatchBatch": ".trainset_layout",
    "SceneInfo": ".trainset_layout",
    "SplitWriter": ".trainset_layout",
    "split_path": ".trainset_layout",
}
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)

__all__ = [
    "BANDS",
    "LABEL_BACKGROUND",
    "LABEL_IGNORE",
    "LABEL_RTS",
    "OPTICAL_BANDS",
    "SPLITS",
    "BandKind",
    "BandSpec",
    "CheckpointError",
    "DartsConfigError",
    "DartsError",
    "DartsFileNotFoundError",
    "DartsInputError",
    "DiskFullError",
    "PatchBatch",
    "SceneInfo",
    "SignalInterruptError",
    "SplitWriter",
    "TrainingSetError",
    "UnknownBandError",
    "atomic_dir",
    "atomic_path",
    "check_bands",
    "lazy_attributes",
    "norm_factors",
    "normalize_bands",
    "split_path",
    "write_atomically",
    "write_text_atomically",
]
