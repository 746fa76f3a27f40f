"""This host's CPU as a profile describes it: FP32 FLOP per cycle from /proc/cpuinfo texts, the derived peak
(cores x GHz x FLOP/cycle, by hand), the description, and the `describe_host` hook of the profile loader."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from edge_bench.devices import load_profile
from edge_bench.devices.host_cpu import describe_host, flop_per_cycle

# The shipped profiles' derivation form, as tests/test_devices_profiles.py reads it.
TERM = re.compile(r"(\d+) x [^@+]*@ ([\d.]+) GHz x (\d+) FLOP/cycle")

# This machine's kind: a Zen 3 EPYC VM (two processors; the first one's fields are read).
EPYC_ZEN3 = """\
processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC
stepping\t: 1
cpu MHz\t\t: 2445.432
cpu cores\t: 2
flags\t\t: fpu vme de pse tsc msr pae sse sse2 ht syscall nx mmxext lm pni pclmulqdq ssse3 fma cx16 sse4_1 sse4_2 \
movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm abm sse4a bmi1 avx2 smep bmi2 erms sha_ni vaes vpclmulqdq

processor\t: 1
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC
cpu MHz\t\t: 2445.432
flags\t\t: fpu vme de pse tsc msr pae sse sse2 fma avx avx2 hypervisor
"""

ZEN4 = """\
processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC 9654 96-Core Processor
cpu MHz\t\t: 3700.000
flags\t\t: fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 avx512f avx512dq avx512cd avx512bw avx512vl \
avx512_bf16 avx512_vnni
"""

INTEL_AVX512 = """\
processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 106
model name\t: Intel(R) Xeon(R) Platinum 8375C CPU
cpu MHz\t\t: 2900.000
flags\t\t: fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 avx512f avx512dq avx512cd avx512bw avx512vl avx512_vnni
"""

INTEL_AVX_NO_FMA = """\
processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 42
model name\t: Intel(R) Core(TM) i7-2600 CPU
cpu MHz\t\t: 3400.000
flags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt aes xsave avx
"""

PI5_AARCH64 = """\
processor\t: 0
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x4
CPU part\t: 0xd0b
CPU revision\t: 1

Revision\t: d04170
Model\t\t: Raspberry Pi 5 Model B Rev 1.0
"""

SSE_ONLY = """\
processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 23
model name\t: Intel(R) Core(TM)2 Duo CPU
flags\t\t: fpu sse sse2 ssse3 sse4_1
"""


def _adds_up(cpu) -> None:
    """The derivation is in the shipped profiles' form and its terms give the peak."""
    terms = TERM.findall(cpu.derivation)
    assert len(terms) == 1, cpu.derivation
    (n, ghz, k), = terms
    assert round(int(n) * float(ghz) * int(k), 1) == cpu.peak_gflops


def test_this_machines_kind_zen3_epyc_vm():
    cpu = describe_host(EPYC_ZEN3, cores=2, mhz=2445.432)
    assert (cpu.model, cpu.vendor, cpu.family, cpu.model_id, cpu.cores, cpu.mhz) == (
        "AMD EPYC", "AuthenticAMD", 25, 1, 2, 2445.432)
    assert cpu.simd == ("avx2", "fma", "avx")
    assert (cpu.flop_per_cycle, cpu.flop_source) == (32, "AVX2: two 256-bit FMA pipes")
    assert cpu.vm
    assert cpu.peak_gflops == 156.8  # 2 cores x 2.45 GHz x 32 FLOP/cycle = 156.8
    assert cpu.derivation == ("2 x AMD EPYC @ 2.45 GHz x 32 FLOP/cycle (FP32, AVX2: two 256-bit FMA pipes); "
                              "a VM: the host may share these cores")
    assert cpu.description == "This host: AMD EPYC (AuthenticAMD family 25 model 1), 2 cores @ 2.45 GHz, avx2, fma, avx"
    _adds_up(cpu)


def test_zen4_has_avx512_on_256_bit_pipes():
    cpu = describe_host(ZEN4, cores=4, mhz=3700.0)
    assert (cpu.vendor, cpu.family, cpu.model_id) == ("AuthenticAMD", 25, 17)
    assert cpu.flop_per_cycle == 32 and "Zen 4" in cpu.flop_source
    assert cpu.simd == ("avx512f", "avx512_vnni", "avx512_bf16", "avx2", "fma", "avx")
    assert not cpu.vm and "VM" not in cpu.derivation
    assert cpu.peak_gflops == 473.6  # 4 x 3.7 x 32
    _adds_up(cpu)


def test_intel_avx512_is_64():
    cpu = describe_host(INTEL_AVX512, cores=8, mhz=2900.0)
    assert (cpu.flop_per_cycle, cpu.flop_source) == (64, "AVX-512 with two FMA units")
    assert cpu.peak_gflops == 1484.8  # 8 x 2.9 x 64
    _adds_up(cpu)


def test_avx_without_fma_is_16():
    cpu = describe_host(INTEL_AVX_NO_FMA, cores=4, mhz=3400.0)
    assert (cpu.flop_per_cycle, cpu.flop_source) == (16, "AVX without FMA")
    assert cpu.simd == ("avx",)
    assert cpu.peak_gflops == 217.6  # 4 x 3.4 x 16
    _adds_up(cpu)


def test_aarch64_features_give_neon_16():
    cpu = describe_host(PI5_AARCH64, cores=4, mhz=2400.0)
    assert (cpu.model, cpu.vendor, cpu.family, cpu.model_id) == ("Raspberry Pi 5 Model B Rev 1.0", "0x41", None, None)
    assert (cpu.flop_per_cycle, cpu.flop_source) == (16, "two 128-bit NEON FMA pipes")
    assert cpu.simd == ("asimd",)
    assert cpu.peak_gflops == 153.6  # 4 x 2.4 x 16, the shipped rpi5 profile's figure
    assert cpu.description == "This host: Raspberry Pi 5 Model B Rev 1.0 (0x41), 4 cores @ 2.40 GHz, asimd"
    _adds_up(cpu)


def test_sse_only_is_8_and_an_unknown_clock_gives_no_peak():
    cpu = describe_host(SSE_ONLY, cores=2, mhz=1866.0)
    assert (cpu.flop_per_cycle, cpu.flop_source, cpu.simd) == (8, "SSE", ())
    assert cpu.peak_gflops == 29.9  # 2 x 1.87 x 8 = 29.92
    assert "no SIMD flags read" in cpu.description
    _adds_up(cpu)
    # No MHz anywhere (the clock argument wins over the text; 0 reads as none): the peak is unknown, not invented.
    unknown = describe_host(SSE_ONLY, cores=2, mhz=0.0)
    assert unknown.peak_gflops == 0 and "an unknown clock" in unknown.derivation


@pytest.mark.parametrize(("vendor", "family", "model_id", "flags", "machine", "expected"), [
    ("AuthenticAMD", 25, 1, {"avx2", "fma", "avx"}, "x86_64", 32),
    ("AuthenticAMD", 25, 17, {"avx512f", "avx2", "fma"}, "x86_64", 32),
    ("AuthenticAMD", 26, 2, {"avx512f", "avx2", "fma"}, "x86_64", 64),
    ("GenuineIntel", 6, 106, {"avx512f", "avx2", "fma"}, "x86_64", 64),
    ("GenuineIntel", 6, 42, {"avx"}, "x86_64", 16),
    ("0x41", None, None, {"fp", "asimd"}, "aarch64", 16),
    ("0x41", None, None, set(), "arm64", 16),
    ("GenuineIntel", 6, 23, {"sse", "sse2"}, "x86_64", 8),
])
def test_flop_per_cycle_table(vendor, family, model_id, flags, machine, expected):
    assert flop_per_cycle(vendor, family, model_id, flags, machine)[0] == expected


def test_cores_default_to_the_cpus_this_process_may_use():
    import os

    assert describe_host(EPYC_ZEN3, mhz=2445.432).cores == len(os.sched_getaffinity(0))


def _real_model_name() -> str:
    text = Path("/proc/cpuinfo").read_text(errors="replace") if Path("/proc/cpuinfo").is_file() else ""
    found = re.search(r"^(?:model name|Model)\s*:\s*(.+)$", text, re.MULTILINE)
    if not found:
        pytest.skip("this host's /proc/cpuinfo names no CPU model")
    return found.group(1).strip()


def test_the_shipped_local_profile_describes_this_host(isolated_home):
    model = _real_model_name()
    host = describe_host()
    profile = load_profile("local")
    assert model in profile.description and profile.description == host.description
    assert f"{host.cores} cores" in profile.description
    assert all(flag in profile.description for flag in host.simd)
    assert profile.peak_gflops == host.peak_gflops and profile.peak_gflops > 0
    assert profile.peak_gflops_derivation == host.derivation and model in profile.peak_gflops_derivation


def _write(config: Path, name: str, text: str) -> None:
    path = config / "devices" / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_profile_without_describe_host_keeps_its_own_values(isolated_home):
    fixed = ('description = "a Pi 4 on the desk"\n'
             'peak_gflops = 57.6\n'
             'peak_gflops_derivation = "4 x Cortex-A72 @ 1.8 GHz x 8 FLOP/cycle"\n')
    _write(isolated_home / "config", "desk-pi", fixed)
    _write(isolated_home / "config", "desk-pi-off", fixed + "describe_host = false\n")
    for name in ("desk-pi", "desk-pi-off"):
        profile = load_profile(name)
        assert not profile.describe_host
        assert (profile.description, profile.peak_gflops, profile.peak_gflops_derivation) == (
            "a Pi 4 on the desk", 57.6, "4 x Cortex-A72 @ 1.8 GHz x 8 FLOP/cycle")


def test_describe_host_replaces_what_the_file_says(isolated_home):
    _write(isolated_home / "config", "my-host", 'describe_host = true\ndescription = "stale"\npeak_gflops = 1.0\n'
                                                 'peak_gflops_derivation = "stale"\n')
    profile, host = load_profile("my-host"), describe_host()
    assert (profile.description, profile.peak_gflops, profile.peak_gflops_derivation) == (
        host.description, host.peak_gflops, host.derivation)
