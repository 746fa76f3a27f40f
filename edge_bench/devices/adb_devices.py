"""`adb devices -l`: parsing its lines and picking the device a profile means.

The format comes from adb's `append_transport` (adb/transport.cpp): the serial
padded to 22 columns, the state, then `usb:PATH product:P model:M device:D
transport_id:N`. States include device, offline, unauthorized, authorizing,
connecting, recovery, sideload, bootloader, host, and the one with spaces,
"no permissions (REASON); see [URL]". A device without a serial shows
"(no serial number)".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from edge_bench.devices.errors import ConnectionFailed

_NO_SERIAL = "(no serial number)"
_PROPERTY = re.compile(r"(?:^|\s)(usb|product|model|device|transport_id):(\S+)")


@dataclass(frozen=True)
class AdbDevice:
    """One line of `adb devices -l`."""

    serial: str
    """The serial to pass to `adb -s`."""
    state: str
    """device (ready), offline, unauthorized, no permissions, recovery, ..."""
    properties: dict[str, str] = field(default_factory=dict)
    """usb, product, model, device, transport_id as listed."""

    @property
    def model(self) -> str:
        """The model name adb reports ('' when not ready)."""
        return self.properties.get("model", "")


def parse_devices(text: str) -> list[AdbDevice]:
    """The devices listed in `adb devices` or `adb devices -l` output."""
    lines = text.splitlines()
    if any(line.startswith("List of devices attached") for line in lines):
        start = next(i for i, line in enumerate(lines) if line.startswith("List of devices attached"))
        lines = lines[start + 1:]
    devices = []
    for line in lines:
        if not line.strip() or line.startswith(("*", "adb ")):
            continue
        devices.append(_parse_line(line.strip()))
    return devices


def _parse_line(line: str) -> AdbDevice:
    if line.startswith(_NO_SERIAL):
        serial, rest = _NO_SERIAL, line[len(_NO_SERIAL):].strip()
    else:
        serial, _, rest = line.partition("\t") if "\t" in line else line.partition(" ")
        rest = rest.strip()
    if rest.startswith("no permissions"):
        end = rest.find("]")
        state_text = rest[: end + 1] if end >= 0 else rest.split(" usb:")[0]
        state, tail = "no permissions", rest[len(state_text):]
        detail = state_text
    else:
        state, _, tail = rest.partition(" ")
        detail = ""
    properties = dict(_PROPERTY.findall(" " + tail))
    if detail:
        properties["detail"] = detail
    return AdbDevice(serial.strip(), state, properties)


_STATE_ERRORS = {
    "unauthorized": ("unauthorized", "Android device {serial} is unauthorized",
                     "unlock the phone and accept the 'Allow USB debugging?' prompt, then retry"),
    "authorizing": ("unauthorized", "Android device {serial} is still authorizing", "accept the prompt on the phone and retry"),
    "offline": ("offline", "Android device {serial} is offline",
                "reconnect the cable or run `adb reconnect`; a phone stays offline while it boots"),
    "connecting": ("offline", "Android device {serial} is still connecting", "wait a moment and retry"),
    "no permissions": ("no-permissions", "no permission to open Android device {serial}",
                       "add a udev rule for the phone and put your user in the plugdev group "
                       "(https://developer.android.com/tools/device)"),
}


def select_device(devices: list[AdbDevice], serial: str = "") -> AdbDevice:
    """The ready device the profile means: its serial, or the only one attached.

    Raises ConnectionFailed with the reason and what to do when it is missing,
    unauthorized, offline, without permissions, or ambiguous.
    """
    if serial:
        chosen = [d for d in devices if d.serial == serial]
        if not chosen:
            listed = ", ".join(f"{d.serial} ({d.state})" for d in devices) or "none"
            raise ConnectionFailed(f"Android device {serial} is not attached (adb devices lists {listed})",
                                   hint="plug it in, or `adb connect HOST:PORT` for wireless debugging", reason="no-device")
    else:
        if not devices:
            raise ConnectionFailed("no Android device attached (adb devices lists none)",
                                   hint="connect a phone with USB debugging on, or `adb connect HOST:PORT`", reason="no-device")
        chosen = [d for d in devices if d.state == "device"] or devices
        if len(chosen) > 1:
            raise ConnectionFailed(f"{len(chosen)} Android devices attached: {', '.join(d.serial for d in chosen)}",
                                   hint="set adb.serial in the device profile to one of them", reason="ambiguous")
    device = chosen[0]
    if device.state != "device":
        reason, message, hint = _STATE_ERRORS.get(
            device.state, ("offline", "Android device {serial} is in state " + repr(device.state), "boot it into Android"))
        raise ConnectionFailed(message.format(serial=device.serial), hint=hint, reason=reason)
    return device
