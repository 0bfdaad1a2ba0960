"""Native bf16 detection from /proc/cpuinfo, and what precision "auto" means on the CPU."""

from __future__ import annotations

import numpy as np
import torch

from darts_models.cpu_features import cpuinfo_has_native_bf16
from darts_models.inference import predict_array

ZEN3 = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 avx2 fma bmi2 sha_ni\n"
ZEN4 = "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_vnni avx512_bf16 sha_ni\n"
SAPPHIRE_RAPIDS = "flags\t\t: avx512f amx_bf16 amx_tile amx_int8\nbugs\t\t: spectre_v1\n"


def test_native_bf16_flags_are_found_and_look_alikes_are_not():
    assert not cpuinfo_has_native_bf16(ZEN3)
    assert cpuinfo_has_native_bf16(ZEN4)
    assert cpuinfo_has_native_bf16(SAPPHIRE_RAPIDS)
    assert not cpuinfo_has_native_bf16("flags\t: avx512_bf16x avx512f\n")  # whole flags only
    assert not cpuinfo_has_native_bf16("model name\t: avx512_bf16 in the name\n")  # only the flags line
    assert not cpuinfo_has_native_bf16("")


def test_auto_precision_on_the_cpu_follows_the_detection(monkeypatch):
    model = torch.nn.Conv2d(2, 1, 3, padding=1)
    x = np.random.default_rng(0).random((2, 40, 40), dtype=np.float32)
    fp32 = predict_array(model, x, patch_size=32, overlap=8, precision="fp32", channels_last=False)
    monkeypatch.setattr("darts_models.predictor.cpu_has_native_bf16", lambda: False)
    assert np.array_equal(predict_array(model, x, 32, 8, precision="auto", channels_last=False), fp32)
    monkeypatch.setattr("darts_models.predictor.cpu_has_native_bf16", lambda: True)
    auto = predict_array(model, x, 32, 8, precision="auto")
    bf16 = predict_array(model, x, 32, 8, precision="bf16")
    assert np.array_equal(auto, bf16) and not np.array_equal(auto, fp32)
    assert np.abs(auto - fp32).max() < 0.02  # bf16 keeps 8 bits of mantissa
