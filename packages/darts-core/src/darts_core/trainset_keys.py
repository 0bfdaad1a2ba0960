"""Key names of a training set's config.toml that are records, not options (cheap to import)."""

from __future__ import annotations

RECORD_KEYS: frozenset[str] = frozenset(
    {
        "sensor",
        "norm_factors",
        "band_encodings",
        "band_units",
        "n_patches",
        "n_scenes",
        "patches_removed",
        "layout_version",
        "versions",
        "label_files",
        "skipped_scenes",
        "unmatched_label_image_ids",
    }
)
"""Keys of a training set's ``[darts]`` table that record what preprocessing produced (not options).

Feeding the file back to ``darts`` must not warn about them; tables among them are kept whole.
"""
