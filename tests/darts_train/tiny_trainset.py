"""A tiny seeded training set written with the real SplitWriter (64 px patches, a few scenes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from darts_preprocess.bands import norm_factors
from darts_preprocess.trainset_layout import PatchBatch, SceneInfo, SplitWriter, write_training_set_config

BANDS = ("blue", "green", "red", "nir", "ndvi")
PATCH = 64
LAYOUT = {"cross-val": (4, 3), "val-test": (1, 2), "test": (1, 2)}
"""split -> (scenes, patches per scene)."""


def _patch(rng: np.random.Generator, c: int) -> tuple[np.ndarray, np.ndarray]:
    """A bright blob (RTS) on a darker, noisy background; a strip of no-data in some patches."""
    yy, xx = np.mgrid[:PATCH, :PATCH]
    y = np.zeros((PATCH, PATCH), dtype=np.uint8)
    x = rng.uniform(0.1, 0.3, size=(c, PATCH, PATCH)).astype(np.float32)
    for _ in range(rng.integers(0, 3)):
        cy, cx = rng.integers(10, PATCH - 10, size=2).tolist()
        r = int(rng.integers(4, 10))
        blob = (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2
        y[blob] = 1
        x[:, blob] += 0.5
    if rng.random() < 0.3:
        y[:, :4] = 2
        x[:, :, :4] = 0.0
    return np.clip(x, 0, 1), y


def write_tiny_training_set(root: Path, seed: int = 0, bands: tuple[str, ...] = BANDS) -> Path:
    """Write config.toml and the three splits under ``root``; return ``root``."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    counts = {}
    for split, (n_scenes, per_scene) in LAYOUT.items():
        writer = SplitWriter(root, split, bands, PATCH)
        for s in range(n_scenes):
            xs, ys = zip(*(_patch(rng, len(bands)) for _ in range(per_scene)), strict=True)
            rows = np.arange(per_scene, dtype=np.int32) * PATCH
            gt = np.tile([3.0, 0.0, 500000.0, 0.0, -3.0, 7000000.0], (per_scene, 1))
            scene = SceneInfo(
                id=f"{split}-scene{s}", region="Region A" if split != "test" else "Region T", crs="EPSG:32633"
            )
            writer.append(
                PatchBatch(scene, np.stack(xs), np.stack(ys), rows, np.zeros(per_scene, np.int32), gt)
            )
        writer.finish()
        counts[split] = n_scenes * per_scene
    write_training_set_config(
        root,
        {
            "bands": list(bands),
            "norm_factors": norm_factors(bands),
            "patch_size": PATCH,
            "overlap": 0,
            "n_patches": counts,
        },
    )
    return root


def tiny_train_options(train_data_dir: Path, artifact_dir: Path, **overrides: object) -> dict[str, object]:
    """TrainConfig fields of a seconds-long CPU run on the tiny set (resnet18, no pretrained weights)."""
    options: dict[str, object] = {
        "train_data_dir": train_data_dir,
        "artifact_dir": artifact_dir,
        "model_arch": "Unet",
        "model_encoder": "resnet18",
        "model_encoder_weights": None,
        "n_folds": 2,
        "batch_size": 3,
        "max_epochs": 2,
        "check_val_every_n_epoch": 1,
        "log_every_n_steps": 1,
        "plot_every_n_val_epochs": 1,
        "accelerator": "cpu",
        "devices": "cpu",
    }
    options.update(overrides)
    return options


def write_reference_training_set(root: Path, seed: int = 2, patch: int = 32) -> Path:
    """A set as the reference tool writes it: zarr format 2, Blosc-lz4, chunks n=1, only ``x`` and ``y``.

    Its config.toml has no ``norm_factors`` (the band registry's apply) and no per-sample metadata
    exists, so folds fall back to contiguous blocks and per-scene reports to one ``ALL`` row.
    """
    import numcodecs
    import zarr

    rng = np.random.default_rng(seed)
    bands = ("blue", "green", "red", "nir")
    blosc = numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)
    counts = {"cross-val": 8, "val-test": 2, "test": 2}
    root.mkdir(parents=True, exist_ok=True)
    for split, n in counts.items():
        group = zarr.open_group(root / f"{split}.zarr", mode="w", zarr_format=2)
        y = (rng.random((n, patch, patch)) < 0.05).astype(np.uint8)
        y[::2, 8:20, 6:18] = 1
        y[1::3, :, :3] = 2
        x = rng.uniform(0.1, 0.3, size=(n, len(bands), patch, patch)).astype(np.float32)
        x += 0.5 * (y == 1)[:, None]
        for name, values, dtype in (("x", np.clip(x, 0, 1), "f4"), ("y", y, "u1")):
            array = group.create_array(
                name, shape=values.shape, chunks=(1, *values.shape[1:]), dtype=dtype, compressors=blosc
            )
            array[:] = values
    names = ", ".join(f'"{b}"' for b in bands)
    patches = ", ".join(f'"{k}" = {v}' for k, v in counts.items())
    (root / "config.toml").write_text(
        f"[darts]\nbands = [{names}]\npatch-size = {patch}\noverlap = 0\nn-patches = {{ {patches} }}\n"
    )
    return root
