"""Fixtures of the darts_segment tests: two generated PlanetScope scenes and a tiny model file."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from darts_models import DeployableModelConfig, ModelSpec, build_model, save_deployable_checkpoint
from darts_preprocess.synthetic.collections import SyntheticCollection, generate_planet_collection

BANDS = ("red", "nir", "ndvi", "relative_elevation")


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> SyntheticCollection:
    """Two 96 px scenes (a PSScene and a PSOrthoTile) with ArcticDEM and TCVIS caches. Read-only."""
    torch.set_num_threads(1)
    return generate_planet_collection(tmp_path_factory.mktemp("scenes"), None, n_scenes=2, size_px=96, seed=3)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised Unet (mobilenet_v2 encoder, no pretrained weights) as a deployable file."""
    torch.manual_seed(0)
    net = build_model("Unet", "mobilenet_v2", None, len(BANDS), 1)
    config = DeployableModelConfig(
        input_combination=BANDS,
        model=ModelSpec(arch="Unet", encoder_name="mobilenet_v2", in_channels=len(BANDS)),
        norm_factors=dict.fromkeys(BANDS, 1 / 3000),
        name="tiny-unet",
        patch_size=64,
    )
    path = tmp_path_factory.mktemp("models") / "tiny-unet.pt"
    save_deployable_checkpoint(path, net.state_dict(), config)
    return path
