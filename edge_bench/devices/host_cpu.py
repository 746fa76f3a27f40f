"""This host's CPU as a device profile describes one: model, cores, SIMD features, a derived fp32 peak.

The shipped `local` profile sets `describe_host = true`, so it describes the
machine edge-bench runs on rather than one fixed machine. The peak is
cores x clock x FP32 FLOP per cycle, the last from the widest FMA the CPU
reports (/proc/cpuinfo flags) and its vendor and family; it is an upper bound,
and the measured ceiling (edge_bench.runner.ceiling) is what shares use.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class HostCpu:
    """What the profile of this host says about its CPU."""

    model: str
    vendor: str
    family: int | None
    model_id: int | None
    cores: int
    mhz: float | None
    simd: tuple[str, ...]
    flop_per_cycle: int
    """FP32 FLOP per cycle per core (FMA = 2 FLOP per lane)."""
    flop_source: str
    vm: bool = False
    """The CPU reports the hypervisor flag: a VM's vCPUs may share physical cores with other guests."""

    @property
    def ghz(self) -> float | None:
        """The clock as the derivation states it (GHz, 2 decimals); the peak is computed from this value."""
        return round(self.mhz / 1000, 2) if self.mhz else None

    @property
    def peak_gflops(self) -> float:
        return round(self.cores * (self.ghz or 0) * self.flop_per_cycle, 1)

    @property
    def derivation(self) -> str:
        """In the shipped profiles' form, 'N x CPU @ G GHz x K FLOP/cycle (...)', adding up to peak_gflops."""
        clock = f"{self.ghz:g} GHz" if self.ghz else "an unknown clock"
        vm = "; a VM: the host may share these cores" if self.vm else ""
        return f"{self.cores} x {self.model} @ {clock} x {self.flop_per_cycle} FLOP/cycle (FP32, {self.flop_source}){vm}"

    @property
    def description(self) -> str:
        ident = f"{self.vendor} family {self.family} model {self.model_id}" if self.family is not None else self.vendor
        simd = ", ".join(self.simd) or "no SIMD flags read"
        clock = f" @ {self.mhz / 1000:.2f} GHz" if self.mhz else ""
        return f"This host: {self.model} ({ident}), {self.cores} cores{clock}, {simd}"


SIMD_FLAGS = ("avx512f", "avx512_vnni", "avx512_bf16", "avx2", "fma", "avx", "asimd", "sve", "neon")


def _cpuinfo(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if ":" in line:
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    return fields


def flop_per_cycle(vendor: str, family: int | None, model_id: int | None, flags: set[str], machine: str) -> tuple[int, str]:
    """FP32 FLOP per cycle per core, and why."""
    if "avx512f" in flags:
        if vendor == "AuthenticAMD" and family == 25:
            return 32, "Zen 4: AVX-512 on two 256-bit FMA pipes"
        if vendor == "AuthenticAMD":
            return 64, "AVX-512 with two 512-bit FMA pipes"
        return 64, "AVX-512 with two FMA units"
    if "avx2" in flags and "fma" in flags:
        return 32, "AVX2: two 256-bit FMA pipes"
    if "avx" in flags:
        return 16, "AVX without FMA"
    if machine in ("aarch64", "arm64") or "asimd" in flags:
        return 16, "two 128-bit NEON FMA pipes"
    return 8, "SSE"


def describe_host(cpuinfo: str | None = None, cores: int | None = None, mhz: float | None = None) -> HostCpu:
    """This host's CPU (arguments replace what is read, for tests)."""
    if cpuinfo is None:
        path = Path("/proc/cpuinfo")
        cpuinfo = path.read_text(errors="replace") if path.is_file() else ""
    info = _cpuinfo(cpuinfo)
    flags = set((info.get("flags") or info.get("Features") or "").split())
    machine = platform.machine()
    vendor = info.get("vendor_id") or info.get("CPU implementer") or platform.system()
    model = info.get("model name") or info.get("Model") or platform.processor() or machine

    def _int(key: str) -> int | None:
        try:
            return int(info[key], 0)
        except (KeyError, ValueError):
            return None

    family, model_id = _int("cpu family"), _int("model")
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if mhz is None:
        mhz = _max_mhz() or _float(info.get("cpu MHz"))
    fpc, source = flop_per_cycle(vendor, family, model_id, flags, machine)
    return HostCpu(model, vendor, family, model_id, cores, mhz, tuple(f for f in SIMD_FLAGS if f in flags), fpc, source,
                   vm="hypervisor" in flags)


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _max_mhz() -> float | None:
    path = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    try:
        return int(path.read_text()) / 1000
    except (OSError, ValueError):
        return None
