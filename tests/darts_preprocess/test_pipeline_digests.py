"""Byte identity of a preprocessing run: the digests of every output file are pinned.

A refactoring of darts_preprocess must leave these digests unchanged (same arrays, same chunk
bytes, same labels.geojson, report and config.toml records). A deliberate change of the output
updates them, and says so in its commit.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from darts_preprocess.config import PlanetPreprocessConfig, S2PreprocessConfig
from darts_preprocess.pipeline import preprocess_planet_train_data, preprocess_s2_train_data
from darts_preprocess.synthetic.collections import generate_planet_collection, generate_s2_collection

COMMON: dict[str, Any] = {
    "patch_size": 32,
    "overlap": 4,
    "mask_erosion_size": 2,
    "test_val_split": 0.4,
    "dask_worker": 1,
    "offline": True,
}
NOT_PINNED = ("versions", "train_data_dir", "data_dir", "sentinel2_dir", "labels_dir", "arcticdem_dir")
"""config.toml keys that hold this machine's paths or library versions."""


def set_digests(root: Path, base: Path) -> dict[str, str]:
    """sha256 of every file of a training set; config.toml without paths and versions.

    Paths below ``base`` (the skipped files' reasons) are written relative to it first.
    """
    out = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes().replace(str(base).encode(), b"<base>")
        if path.name == "config.toml":
            darts = tomllib.loads(data.decode())["darts"]
            darts = {k: v for k, v in darts.items() if k not in NOT_PINNED and not k.endswith("_dir")}
            darts["label_files"] = [{k: v for k, v in f.items() if k != "path"} for f in darts["label_files"]]
            data = tomli_w.dumps(darts).encode()
        out[path.relative_to(root).as_posix()] = hashlib.sha256(data).hexdigest()
    return out


def combined(digests: dict[str, str]) -> str:
    return hashlib.sha256("".join(f"{k} {v}\n" for k, v in digests.items()).encode()).hexdigest()


@pytest.mark.parametrize(
    ("sensor", "expected"),
    [
        ("planet", "8bc7500bf6d1ecfcffb7c74d5f17659440c5c0fdb01243d4969f538d006e64cc"),
        ("s2", "ccf43843b179c1b751aef51c97babdafd8a88d23f097a25137c8742914013308"),
    ],
)
def test_outputs_are_byte_identical_to_the_pinned_run(sensor: str, expected: str, tmp_path: Path) -> None:
    out = tmp_path / "train"
    if sensor == "planet":
        c = generate_planet_collection(tmp_path / "in", None, n_scenes=4, size_px=80, seed=3)
        config: Any = PlanetPreprocessConfig(
            data_dir=c.data_dir,
            labels_dir=c.labels_dir,
            train_data_dir=out,
            arcticdem_dir=c.arcticdem_dir,
            tcvis_dir=c.tcvis_dir,
            admin_dir=c.admin_dir,
            test_regions=[c.test_region],
            **COMMON,
        )
        result = preprocess_planet_train_data(config, progress=False)
    else:
        c = generate_s2_collection(tmp_path / "in", None, n_scenes=3, size_px=48, seed=5)
        config = S2PreprocessConfig(
            sentinel2_dir=c.data_dir,
            labels_dir=c.labels_dir,
            train_data_dir=out,
            arcticdem_dir=c.arcticdem_dir,
            tcvis_dir=c.tcvis_dir,
            **COMMON,
        )
        result = preprocess_s2_train_data(config, progress=False)
    assert sum(result.n_patches.values()) > 0
    digests = set_digests(out, tmp_path)
    assert {"config.toml", "labels.geojson", "preprocess-report.json"} <= set(digests)
    assert combined(digests) == expected, digests
