"""Fixtures of the darts_segment tests: two generated PlanetScope scenes and tiny model files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from darts_models import DeployableModelConfig, ModelSpec, build_model, save_deployable_checkpoint
from darts_preprocess.synthetic import SyntheticCollection, generate_planet_collection

BANDS = ("blue", "green", "red", "nir", "ndvi", "relative_elevation", "tc_brightness")


@pytest.fixture(autouse=True, scope="session")
def _one_thread() -> None:
    torch.set_num_threads(1)


def write_model(path: Path, bands: tuple[str, ...], seed: int = 0, norm: float | None = None) -> Path:
    """A randomly initialised Unet (mobilenet_v2 encoder, no pretrained weights) as a deployable file."""
    torch.manual_seed(seed)
    net = build_model("Unet", "mobilenet_v2", None, len(bands), 1)
    config = DeployableModelConfig(
        input_combination=bands,
        model=ModelSpec(arch="Unet", encoder_name="mobilenet_v2", in_channels=len(bands)),
        norm_factors={b: norm or 1 / 3000 for b in bands},
        name=path.stem,
        patch_size=64,
    )
    save_deployable_checkpoint(path, net.state_dict(), config)
    return path


@pytest.fixture(scope="session")
def collection(tmp_path_factory: pytest.TempPathFactory) -> SyntheticCollection:
    """Two 96 px scenes (PSScene + PSOrthoTile) with ArcticDEM and TCVIS caches. Read-only."""
    out = tmp_path_factory.mktemp("segment_scenes")
    return generate_planet_collection(out, None, n_scenes=2, size_px=96, seed=3)


@pytest.fixture(scope="session")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_model(tmp_path_factory.mktemp("models") / "tiny-unet.pt", BANDS)
