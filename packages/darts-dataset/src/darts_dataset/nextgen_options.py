"""How darts reads a darts-nextgen training set (``data.zarr`` + ``metadata.parquet``): the split
rule's choices and the optical normalisation of the set. Ignored for sets in darts' own layout.

The settings are a mixin: the configs of ``train-smp``, ``test-smp``, ``optuna-sweep-smp`` and
``validate-train-data`` inherit them, so each command takes them as options / config keys.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_OPTICAL_RANGE = (-1000.0, 5000.0)
"""Optical range (DN = reflectance x 10000) of darts-nextgen's band manager since 2025-09-20."""


class NextgenSetOptions(BaseModel):
    """Split rule and normalisation of a darts-nextgen set (see docs/formats/training-set.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    nextgen_test_regions: tuple[str, ...] | None = None
    """darts-nextgen sets only: the scenes of these regions (``region`` column) form the test split;
    none = a seeded scene-grouped fraction (``nextgen_test_fraction``)."""
    nextgen_test_fraction: float = Field(0.2, ge=0, lt=1)
    """darts-nextgen sets only, without nextgen_test_regions: share of scenes drawn into test (each scene by a
    seeded hash of its sample_id)."""
    nextgen_val_test_fraction: float = Field(0.1, ge=0, lt=1)
    """darts-nextgen sets only: share of the remaining scenes drawn into val-test (seeded hash)."""
    nextgen_split_seed: int = 42
    """darts-nextgen sets only: seed of the test and val-test draws."""
    nextgen_optical_range: tuple[float, float] = DEFAULT_OPTICAL_RANGE
    """darts-nextgen sets without band_factors only: the DN range the set mapped onto [0, 1] for
    optical bands; (-1000, 5000) since darts-nextgen of 2025-09-20, (0, 10000) before."""

    @field_validator("nextgen_optical_range")
    @classmethod
    def _increasing(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not value[0] < value[1]:
            raise ValueError(f"nextgen_optical_range {value} must be (low, high) with low < high")
        return value

    @field_validator("nextgen_test_regions")
    @classmethod
    def _non_empty(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return value or None


def nextgen_options_of(config: Any) -> NextgenSetOptions:
    """The :class:`NextgenSetOptions` fields of any config that inherits them (defaults otherwise)."""
    values = {k: getattr(config, k) for k in NextgenSetOptions.model_fields if hasattr(config, k)}
    return NextgenSetOptions(**values)
