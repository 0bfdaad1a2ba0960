"""Does this CPU compute bfloat16 natively? (Decides what ``precision = "auto"`` means on a CPU.)

Native bf16 arithmetic arrived with AVX512-BF16 (Intel Cooper Lake / Sapphire Rapids, AMD Zen 4) and AMX
tiles (Sapphire Rapids). Without it PyTorch emulates bf16 on the CPU and mixed precision is slower than
fp32, so ``auto`` stays at 32-bit there. Only Linux reports the flags (``/proc/cpuinfo``); elsewhere the
answer is no, and ``precision = "bf16-mixed"`` still forces it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

NATIVE_BF16_FLAGS: frozenset[str] = frozenset({"avx512_bf16", "amx_bf16"})
"""CPU flags (as /proc/cpuinfo spells them) of native bf16 arithmetic."""


def cpuinfo_has_native_bf16(cpuinfo: str) -> bool:
    """Whether the first ``flags`` line of a /proc/cpuinfo text names a native bf16 flag."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return not NATIVE_BF16_FLAGS.isdisjoint(value.split())
    return False


@cache
def cpu_has_native_bf16() -> bool:
    """Whether this machine's CPU computes bf16 natively (read once from /proc/cpuinfo; False off Linux)."""
    try:
        return cpuinfo_has_native_bf16(Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return False
