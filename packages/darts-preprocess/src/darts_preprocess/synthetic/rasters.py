"""Pixel content of the synthetic scenes: reflectance, udm2, DEM and TCVIS fields (seeded numpy)."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter, shift, zoom

# Typical summer tundra surface reflectance (DN = reflectance x 10000) and the RTS (bare, wet soil) change.
BACKGROUND_DN: dict[str, float] = {"blue": 450.0, "green": 700.0, "red": 750.0, "nir": 2400.0}
RTS_FACTOR: dict[str, float] = {"blue": 1.9, "green": 1.7, "red": 2.1, "nir": 0.75}
CLOUD_DN = 3400.0


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma_px: float) -> np.ndarray:
    """Gaussian-filtered white noise scaled to unit standard deviation.

    Wide kernels are computed on a coarser grid and upsampled (bilinear), which looks the same
    and keeps generation fast.
    """
    step = max(1, int(sigma_px // 4))
    if step == 1:
        field = gaussian_filter(rng.standard_normal(shape), sigma_px, mode="wrap", truncate=3.0)
    else:
        coarse = (shape[0] // step + 2, shape[1] // step + 2)
        field = gaussian_filter(rng.standard_normal(coarse), sigma_px / step, mode="wrap", truncate=3.0)
        field = zoom(field, step, order=1)[: shape[0], : shape[1]]
    return field / max(float(field.std()), 1e-12)


def _corner_distance(shape: tuple[int, int], corner: int) -> np.ndarray:
    """Distance (in fractions of the image side) from one of the four corners."""
    h, w = shape
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
    if corner in (1, 2):
        cols = w - 1 - cols
    if corner in (2, 3):
        rows = h - 1 - rows
    return np.hypot(rows / h, cols / w)


def quality_masks(rng: np.random.Generator, shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """Cloud, shadow, light haze and unusable areas, each grown from a different image corner."""
    corners = rng.permutation(4)
    cloud = _corner_distance(shape, int(corners[0])) + 0.05 * smooth_noise(rng, shape, 4) < 0.30
    haze = _corner_distance(shape, int(corners[1])) + 0.05 * smooth_noise(rng, shape, 4) < 0.38
    unusable = _corner_distance(shape, int(corners[2])) < 0.15
    offset = max(2, shape[0] // 24)
    shadow = shift(cloud.astype(np.float32), (offset, offset), order=0, mode="constant") > 0.5
    shadow &= ~cloud
    return {
        "cloud": cloud & ~unusable,
        "shadow": shadow & ~unusable,
        "haze": haze & ~cloud & ~unusable,
        "unusable": unusable,
    }


def reflectance(rng: np.random.Generator, rts: np.ndarray, masks: dict[str, np.ndarray]) -> np.ndarray:
    """uint16 ``[4, h, w]`` blue, green, red, nir with the RTS as bright, low-NIR patches; 0 = unusable."""
    shape = rts.shape
    soft = gaussian_filter(rts.astype(np.float64), 0.8)
    texture = 0.12 * smooth_noise(rng, shape, 10) + 0.05 * smooth_noise(rng, shape, 2)
    scale = rng.uniform(0.85, 1.15)
    cloud_soft = gaussian_filter(masks["cloud"].astype(np.float64), 2.0)
    out = []
    for band, base in BACKGROUND_DN.items():
        value = base * scale * (1.0 + texture) * (1.0 + (RTS_FACTOR[band] - 1.0) * soft)
        value += rng.normal(0.0, 0.02 * base, shape)
        value = np.where(masks["shadow"], value * 0.6, value)
        value = np.where(masks["haze"], value + (200.0 if band == "nir" else 400.0), value)
        value = value * (1 - cloud_soft) + cloud_soft * (CLOUD_DN + 150.0 * smooth_noise(rng, shape, 3))
        out.append(np.clip(np.rint(value), 1, 10000))
    sr = np.stack(out).astype(np.uint16)
    sr[:, masks["unusable"]] = 0
    return sr


def udm2(rng: np.random.Generator, masks: dict[str, np.ndarray]) -> np.ndarray:
    """uint8 ``[8, h, w]``: clear, snow, shadow, light haze, heavy haze, cloud, confidence, unusable."""
    shape = masks["cloud"].shape
    flagged = masks["cloud"] | masks["shadow"] | masks["haze"] | masks["unusable"]
    confidence = np.where(flagged, 45, 85) + rng.integers(0, 10, shape)
    bands = [
        ~flagged,
        np.zeros(shape, dtype=bool),
        masks["shadow"],
        masks["haze"],
        np.zeros(shape, dtype=bool),
        masks["cloud"],
    ]
    out = np.zeros((8, *shape), dtype=np.uint8)
    for i, band in enumerate(bands):
        out[i] = band
    out[6] = np.where(masks["unusable"], 0, confidence)
    out[7] = masks["unusable"]
    return out


def elevation(rng: np.random.Generator, rts: np.ndarray, res_m: float) -> np.ndarray:
    """float32 terrain in metres: a tilted plane, hills and a few-metre-deep slump in each RTS."""
    h, w = rts.shape
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float64) * res_m
    gx, gy = rng.uniform(-0.03, 0.03, 2)
    base = rng.uniform(30.0, 300.0)
    hills = 8.0 * smooth_noise(rng, rts.shape, 120.0 / res_m) + 0.4 * smooth_noise(
        rng, rts.shape, 6.0 / res_m
    )
    slump = 4.0 * gaussian_filter(rts.astype(np.float64), 6.0 / res_m)
    return (base + gx * cols + gy * rows + hills - slump).astype(np.float32)


def tcvis(rng: np.random.Generator, rts: np.ndarray) -> np.ndarray:
    """uint8 ``[3, h, w]`` brightness / greenness / wetness trends, disturbed where RTS are."""
    soft = gaussian_filter(rts.astype(np.float64), 0.7)
    out = []
    for base, spread, change in ((128.0, 12.0, 45.0), (135.0, 10.0, -35.0), (125.0, 10.0, -30.0)):
        value = base + spread * smooth_noise(rng, rts.shape, 3.0) + change * soft
        out.append(np.clip(np.rint(value), 0, 255))
    return np.stack(out).astype(np.uint8)
