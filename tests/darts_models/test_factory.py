from __future__ import annotations

import pytest
import torch

from darts_models import UnknownModelError, build_model, list_architectures, list_encoders


def test_unet_returns_one_logit_channel_per_pixel() -> None:
    model = build_model("Unet", "resnet18", None, in_channels=5)
    model.eval()
    with torch.no_grad():
        out = model(torch.rand(2, 5, 32, 32))
    assert out.shape == (2, 1, 32, 32)
    # logits, not probabilities: the model ends without a sigmoid
    assert type(model.segmentation_head[-1].activation).__name__ == "Identity"


def test_architecture_is_case_insensitive_and_classes_respected() -> None:
    model = build_model("unetplusplus", "resnet18", None, in_channels=3, classes=2)
    assert type(model).__name__ == "UnetPlusPlus"
    assert model.segmentation_head[0].out_channels == 2


def test_timm_universal_encoder_is_accepted() -> None:
    model = build_model("FPN", "tu-resnet18", None, in_channels=4)
    assert model.encoder.__class__.__name__ == "TimmUniversalEncoder"


def test_unknown_architecture_lists_valid_names() -> None:
    with pytest.raises(UnknownModelError, match="did you mean 'Unet'") as info:
        build_model("Unett", "resnet18", None, in_channels=3)
    for name in list_architectures():
        assert name in str(info.value)
    assert isinstance(info.value, ValueError)


def test_unknown_encoder_lists_valid_names() -> None:
    with pytest.raises(UnknownModelError, match="resnet18") as info:
        build_model("Unet", "resnet19", None, in_channels=3)
    assert "efficientnet-b0" in str(info.value)
    assert "tu-" in str(info.value)
    assert "resnet34" in list_encoders()


def test_unknown_timm_encoder_is_rejected_before_building() -> None:
    with pytest.raises(UnknownModelError, match="timm"):
        build_model("Unet", "tu-not_a_timm_model", None, in_channels=3)


def test_zero_channels_rejected() -> None:
    with pytest.raises(UnknownModelError, match="in_channels"):
        build_model("Unet", "resnet18", None, in_channels=0)
