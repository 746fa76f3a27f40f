"""A Raspberry Pi 5's /proc/cpuinfo (4x Cortex-A76, BCM2712), bind-mounted over the device's.

qemu-user passes the host's /proc/cpuinfo through, and runtimes that detect the
CPU from it (LiteRT, XNNPACK's cpuinfo) would read an x86 file on an arm64
process; this is what a Pi 5 running Raspberry Pi OS (64-bit) shows.
"""

from __future__ import annotations

_CORE = """processor\t: {n}
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x4
CPU part\t: 0xd0b
CPU revision\t: 1
"""

RPI5_CPUINFO = "\n".join(_CORE.format(n=n) for n in range(4)) + """
Hardware\t: BCM2712
Revision\t: d04170
Serial\t\t: 00000000e5a1b2c3
Model\t\t: Raspberry Pi 5 Model B Rev 1.0
"""
