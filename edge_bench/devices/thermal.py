"""A device's temperature now: its thermal zones read through a transport (the runner's cool-down gate, the TUI)."""

from __future__ import annotations

READ_ZONES = 'for f in "$@"; do head -n 1 "$f" 2>/dev/null || echo -; done'
"""One line per zone file, '-' for a zone that cannot be read."""


def parse_zones(zones: list[str], text: str) -> dict[str, float]:
    """The output of READ_ZONES (millidegrees or degrees, one per line) as °C, in the zones' order."""
    out = {}
    for zone, line in zip(zones, text.split()):
        try:
            value = float(line)
        except ValueError:
            continue
        out[zone] = value / 1000 if abs(value) > 200 else value
    return out


def read_zones(transport, zones: list[str], timeout: float = 10.0) -> dict[str, float]:
    """Zone file -> °C over an open transport ({} when there are no zones)."""
    if not zones:
        return {}
    result = transport.run(["sh", "-c", READ_ZONES, "sh", *zones], timeout=timeout)
    return parse_zones(list(zones), result.text())
