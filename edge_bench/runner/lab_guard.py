"""The timing guard of a lab run: two devices that are one machine would disturb each other's timings.

A device's hardware is named by what the machine behind its transport reports: the running kernel's boot id
(the same for every ssh login, container and adb shell of one running machine), else its machine id, else
the fingerprint's host name, CPU and memory. `local` and an ssh profile to 127.0.0.1 are one machine.
"""

from __future__ import annotations

from typing import Callable

IDENTITY_FILES = ("/proc/sys/kernel/random/boot_id", "/etc/machine-id")
"""Read in this order; the first that exists names the machine."""
IDENTITY_SCRIPT = "".join(f'[ -r {f} ] && printf "%s %s\\n" {f} "$(cat {f})"; ' for f in IDENTITY_FILES) + "true"
HardwareId = Callable[..., "str | None"]
"""(profile, transport) -> what names the machine behind the transport, or None when nothing does."""


def hardware_id(profile, transport) -> str | None:  # noqa: ARG001  (the profile is part of the seam: a test names hardware by it)
    """The machine behind an open transport: 'boot_id ...', 'machine-id ...' or 'host ...' from its fingerprint."""
    result = transport.run(["sh", "-c", IDENTITY_SCRIPT], timeout=30)
    found = {}
    for line in result.text().splitlines():
        path, _, value = line.strip().partition(" ")
        if value.strip():
            found[path] = value.strip()
    for path in IDENTITY_FILES:
        if path in found:
            return f"{path.rsplit('/', 1)[-1]} {found[path]}"
    info = transport.info()
    cpu = info.get("cpu") or {}
    parts = [info.get("hostname"), cpu.get("model") if isinstance(cpu, dict) else None, (info.get("memory") or {}).get("total_bytes")]
    return "host " + " | ".join(str(p) for p in parts) if any(parts) else None


def shared_hardware(ids: dict[str, str | None]) -> dict[str, tuple[str, ...]]:
    """device -> the other devices with the same hardware id (devices alone on their hardware are left out)."""
    out = {}
    for device, hw in ids.items():
        if hw is None:
            continue
        others = tuple(d for d, other in ids.items() if d != device and other == hw)
        if others:
            out[device] = others
    return out


def refusal(shared: dict[str, tuple[str, ...]], ids: dict[str, str | None]) -> str:
    """The one line that refuses a lab run whose devices share hardware."""
    groups, seen = [], set()
    for device, others in shared.items():
        if device in seen:
            continue
        group = (device, *others)
        seen.update(group)
        groups.append(f"{' and '.join(group)} are one machine ({ids[device][:40]})")
    return (f"{'; '.join(groups)}: measured at once, each would disturb the other's timings; run them in separate runs, "
            "or pass --allow-shared-hardware to run them anyway (their results are marked as taken concurrently)")
