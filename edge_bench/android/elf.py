"""Which Android ABI an ELF binary is built for, read from its header, and the check against a phone.

Only the identification bytes and `e_machine` are read (ELF spec, `e_ident`
then `e_type`, `e_machine` at offset 16): EI_CLASS at 4 (1 = 32-bit,
2 = 64-bit), EI_DATA at 5 (1 = little, 2 = big endian), e_machine a 16-bit
field at 18 in the file's byte order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edge_bench.android.errors import AbiMismatch, RunnerMissing

ELF_MAGIC = b"\x7fELF"

# (e_machine, ELF class) -> the Android ABI name as in ro.product.cpu.abilist.
_ANDROID_ABI = {
    (183, 2): "arm64-v8a",   # EM_AARCH64
    (40, 1): "armeabi-v7a",  # EM_ARM
    (62, 2): "x86_64",       # EM_X86_64
    (3, 1): "x86",           # EM_386
    (243, 2): "riscv64",     # EM_RISCV
}

_MACHINE_NAMES = {183: "AArch64", 40: "ARM", 62: "x86-64", 3: "i386", 243: "RISC-V", 8: "MIPS", 21: "PowerPC64", 22: "S/390"}


@dataclass(frozen=True)
class ElfInfo:
    """What the header of an ELF file says about the CPU it needs."""

    machine: int
    """`e_machine` (183 AArch64, 40 ARM, 62 x86-64, 3 i386, 243 RISC-V)."""
    bits: int
    """32 or 64, from EI_CLASS."""
    little_endian: bool
    """EI_DATA."""

    @property
    def abi(self) -> str | None:
        """The Android ABI name (arm64-v8a, armeabi-v7a, x86_64, x86, riscv64), or None when Android has none."""
        if not self.little_endian:
            return None
        return _ANDROID_ABI.get((self.machine, 2 if self.bits == 64 else 1))

    def describe(self) -> str:
        """A short human description, e.g. 'ELF 64-bit x86-64'."""
        name = _MACHINE_NAMES.get(self.machine, f"machine {self.machine}")
        order = "" if self.little_endian else " big-endian"
        return f"ELF {self.bits}-bit{order} {name}"


def parse_elf_header(head: bytes) -> ElfInfo | None:
    """The ELF identification from the first 20 bytes of a file, or None when it is not ELF."""
    if len(head) < 20 or head[:4] != ELF_MAGIC or head[4] not in (1, 2) or head[5] not in (1, 2):
        return None
    little = head[5] == 1
    machine = int.from_bytes(head[18:20], "little" if little else "big")
    return ElfInfo(machine=machine, bits=64 if head[4] == 2 else 32, little_endian=little)


def read_elf(path: Path) -> ElfInfo | None:
    """The ELF identification of a file on the host, or None when it is not ELF (e.g. a shell script)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise RunnerMissing(f"runner not found on this machine: {path}", hint="fix the runner's host_path in the device profile")
    with path.open("rb") as handle:
        return parse_elf_header(handle.read(20))


def parse_od_bytes(text: str) -> bytes:
    """Bytes from `od -An -tx1` output (hex pairs separated by blanks), as the phone prints them."""
    out = bytearray()
    for token in text.split():
        try:
            out.append(int(token, 16))
        except ValueError:
            continue
    return bytes(out)


def check_abi(info: ElfInfo | None, abilist: list[str], what: str) -> None:
    """Raise AbiMismatch unless the binary's ABI is one the phone runs.

    `info` None (not ELF: a wrapper script) passes: the phone's shell decides.
    An empty `abilist` (the phone did not say) passes too.
    """
    if info is None or not abilist:
        return
    abi = info.abi
    if abi in abilist:
        return
    built = f"{info.describe()} ({abi})" if abi else info.describe()
    raise AbiMismatch(
        f"{what} is built for {built}, but the phone runs {', '.join(abilist)}",
        hint="build the runner for arm64-v8a with the Android NDK (see docs/android.md) and point the profile at it",
    )
