"""The device's temperature now: its profile's thermal zones, read through its transport.

Used by the Run screen's periodic probe (in a worker thread); the records keep
the before/after readings of each job as well.
"""

from __future__ import annotations

from edge_bench.devices import DeviceProfile, open_transport

READ_ZONES = 'for f in "$@"; do head -n 1 "$f" 2>/dev/null || echo -; done'
"""One line per zone file, '-' for a zone that cannot be read."""


def read_temperatures(profile: DeviceProfile, timeout: float = 10.0) -> dict[str, float]:
    """Zone file -> °C for the profile's thermal zones ({} when it lists none); raises EdgeBenchError."""
    if not profile.thermal_zones:
        return {}
    with open_transport(profile) as transport:
        result = transport.run(["sh", "-c", READ_ZONES, "sh", *profile.thermal_zones], timeout=timeout)
    return parse_zones(profile.thermal_zones, result.text())


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
