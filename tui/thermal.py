"""The device's temperature now: its profile's thermal zones, read through its transport.

Used by the Run screen's periodic probe (in a worker thread); the records keep
the before/after readings of each job as well. The reading itself is
`edge_bench.devices.thermal` (the runner's cool-down gate uses it too).
"""

from __future__ import annotations

from edge_bench.devices import DeviceProfile, open_transport
from edge_bench.devices.thermal import READ_ZONES, parse_zones, read_zones

__all__ = ["READ_ZONES", "parse_zones", "read_temperatures"]


def read_temperatures(profile: DeviceProfile, timeout: float = 10.0) -> dict[str, float]:
    """Zone file -> °C for the profile's thermal zones ({} when it lists none); raises EdgeBenchError."""
    if not profile.thermal_zones:
        return {}
    with open_transport(profile) as transport:
        return read_zones(transport, profile.thermal_zones, timeout)
