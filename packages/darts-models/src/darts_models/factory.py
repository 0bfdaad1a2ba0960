"""Model factory: any segmentation_models_pytorch architecture and encoder, returning logits."""

from __future__ import annotations

import difflib
import logging
from typing import TYPE_CHECKING

from darts_models.errors import UnknownModelError

if TYPE_CHECKING:
    from torch import nn

logger = logging.getLogger(__name__)

TIMM_PREFIX = "tu-"
"""Encoders named ``tu-<timm model>`` come from timm's registry through smp's universal encoder."""


def list_architectures() -> list[str]:
    """The smp architecture names (class names, matched case-insensitively by :func:`build_model`)."""
    import segmentation_models_pytorch as smp

    return [cls.__name__ for cls in smp.MODEL_ARCHITECTURES_MAPPING.values()]


def list_encoders() -> list[str]:
    """smp's own encoder names; any ``tu-<timm model>`` is accepted as well."""
    import segmentation_models_pytorch as smp

    return sorted(smp.encoders.get_encoder_names())


def _close(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=3, cutoff=0.5)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


def check_architecture(arch: str) -> str:
    """Return the smp registry key of ``arch`` (case-insensitive) or raise :class:`UnknownModelError`."""
    import segmentation_models_pytorch as smp

    key = arch.lower()
    if key not in smp.MODEL_ARCHITECTURES_MAPPING:
        names = list_architectures()
        raise UnknownModelError(
            f"unknown model architecture {arch!r}{_close(arch, names)}; "
            f"valid architectures: {', '.join(names)}"
        )
    return key


def check_encoder(encoder: str) -> str:
    """Return ``encoder`` if smp or timm (``tu-`` prefix) knows it, else raise :class:`UnknownModelError`."""
    if encoder.startswith(TIMM_PREFIX):
        import timm

        timm_name = encoder.removeprefix(TIMM_PREFIX)
        base = timm_name.split(".", 1)[0]  # a pretrained tag such as ``resnet18.a1_in1k`` is fine
        if base not in timm.list_models():
            close = _close(base, timm.list_models())
            raise UnknownModelError(
                f"unknown timm encoder {encoder!r}{close}; after {TIMM_PREFIX!r} name one of "
                "timm.list_models() (e.g. 'tu-resnet18', 'tu-efficientnet_b0')"
            )
        return encoder
    names = list_encoders()
    if encoder not in names:
        raise UnknownModelError(
            f"unknown encoder {encoder!r}{_close(encoder, names)}; valid smp encoders: {', '.join(names)}; "
            f"or any timm model as '{TIMM_PREFIX}<name>'"
        )
    return encoder


def build_model(
    arch: str,
    encoder: str,
    encoder_weights: str | None,
    in_channels: int,
    classes: int = 1,
) -> nn.Module:
    """Create an smp model that maps ``[B, in_channels, H, W]`` to logits ``[B, classes, H, W]``.

    ``arch`` is matched case-insensitively (``Unet``, ``UnetPlusPlus``, ``FPN``, ...); ``encoder`` is an
    smp encoder or ``tu-<timm model>``. ``encoder_weights=None`` never downloads anything; a name such as
    ``"imagenet"`` downloads the pretrained encoder once (network needed).
    """
    import segmentation_models_pytorch as smp

    key = check_architecture(arch)
    check_encoder(encoder)
    if in_channels < 1 or classes < 1:
        raise UnknownModelError(f"in_channels ({in_channels}) and classes ({classes}) must be >= 1")
    logger.debug(
        "building %s/%s, weights=%s, in=%d, classes=%d", arch, encoder, encoder_weights, in_channels, classes
    )
    try:
        return smp.create_model(
            key,
            encoder_name=encoder,
            encoder_weights=encoder_weights,
            in_channels=in_channels,
            classes=classes,
        )
    except (KeyError, ValueError) as err:
        raise UnknownModelError(
            f"smp cannot build architecture {arch!r} with encoder {encoder!r} "
            f"(encoder_weights={encoder_weights!r}): {err}"
        ) from err
