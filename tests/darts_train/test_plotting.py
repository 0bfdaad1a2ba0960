"""Sample plots need no particular band; TP/FP/FN overlay classes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from darts_train.plotting import composite, overlay_classes, plot_sample, save_figure

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_overlay_classes() -> None:
    y = np.array([[1, 1, 0, 0, 2]])
    pred = np.array([[True, False, True, False, True]])
    assert overlay_classes(pred, y).tolist() == [[1, 3, 2, 0, 4]]


def test_true_colour_when_red_green_blue_are_present() -> None:
    x = np.zeros((4, 8, 8), np.float32)
    x[2] = np.linspace(0, 1, 64).reshape(8, 8)  # red is channel 2 of (nir, blue, red, green)
    rgb, name = composite(x, ["nir", "blue", "red", "green"])
    assert name == "RGB" and rgb.shape == (8, 8, 3)
    assert rgb[..., 0].max() == 1.0 and rgb[..., 1].max() == 0.0


@pytest.mark.parametrize(
    "bands", [["blue", "green", "red", "nir", "ndvi", "slope"], ["ndvi", "slope"], ["slope"]]
)
def test_plot_any_band_combination(tmp_path: Path, bands: list[str]) -> None:
    rng = np.random.default_rng(0)
    x = rng.random((len(bands), 16, 16)).astype(np.float32)
    y = (rng.random((16, 16)) > 0.7).astype(np.uint8)
    y[:2] = 2
    fig = plot_sample(x, y, rng.random((16, 16)), bands, title="t")
    # true colour uses three bands; otherwise the first band is the base panel (titled by it)
    titled = [ax.get_title() for ax in fig.axes if ax.get_title() in bands]
    assert sorted(titled) == sorted(
        b for b in bands if "red" not in bands or b not in ("red", "green", "blue")
    )
    path = save_figure(fig, tmp_path / "sub" / "p.png")
    assert path.read_bytes()[:8] == PNG_MAGIC and [p.name for p in path.parent.iterdir()] == ["p.png"]
