"""The `[android]` table of a device profile, as typed settings for the native runners.

```toml
[android]
sample_interval_s = 0.5      # how often the runner's PSS and VmHWM are sampled
use_taskset = true           # pin with taskset when the profile sets an affinity
fidelity_samples = 8         # inputs whose on-device outputs are compared with the host's
timeout_s = 600

[android.runners.tflite]     # LiteRT's benchmark_model
host_path = "~/android/arm64-v8a/benchmark_model"   # pushed to <workdir>/bin/
version = "2.3.0"            # what you built (the tool does not print it)

[android.runners.executorch] # ExecuTorch's executor_runner / xnn_executor_runner
device_path = "/data/local/tmp/xnn_executor_runner" # already on the phone
extra_args = []
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edge_bench.errors import ConfigError

DEFAULT_WORKDIR = "/data/local/tmp/edge-bench"


@dataclass(frozen=True)
class RunnerLocation:
    """Where one native runner comes from: a host file to push, or a path already on the phone."""

    host_path: str = ""
    """A binary on this machine, pushed to the phone's `<workdir>/bin/` before use."""
    device_path: str = ""
    """A binary already on the phone (used when host_path is empty)."""
    version: str = ""
    """The runtime version the runner was built from (recorded with results)."""
    extra_args: tuple[str, ...] = ()
    """Further flags appended to the runner's command line."""

    @property
    def configured(self) -> bool:
        """True when the profile names a binary at all."""
        return bool(self.host_path or self.device_path)


@dataclass(frozen=True)
class AndroidSettings:
    """Settings of the Android path, read from the profile's `[android]` table."""

    workdir: str = DEFAULT_WORKDIR
    """Working directory on the phone (the profile's `workdir`)."""
    runners: dict[str, RunnerLocation] = field(default_factory=dict)
    """Native runner per backend name (tflite, executorch)."""
    sample_interval_s: float = 0.5
    """Seconds between samples of the runner's PSS and VmHWM (0 = no sampling)."""
    use_taskset: bool = True
    """Pin the runner with `taskset` when the profile gives an affinity."""
    fidelity_samples: int = 8
    """How many inputs to run one by one for the on-device vs host comparison (0 = none)."""
    timeout_s: float = 600.0
    """Upper bound on one runner invocation."""

    def runner(self, backend: str) -> RunnerLocation:
        """The runner configured for `backend`, or a ConfigError naming the missing table."""
        location = self.runners.get(backend)
        if location is None or not location.configured:
            raise ConfigError(
                f"no native runner configured for {backend} on this Android device",
                hint=f"add [android.runners.{backend}] with host_path or device_path to the profile (see docs/android.md)",
            )
        return location


_TOP_KEYS = {"sample_interval_s": float, "use_taskset": bool, "fidelity_samples": int, "timeout_s": float}


def _location(backend: str, table: Any, source: str) -> RunnerLocation:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [android.runners.{backend}] must be a table")
    unknown = set(table) - {"host_path", "device_path", "version", "extra_args"}
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) in [android.runners.{backend}]: {', '.join(sorted(unknown))}")
    extra = table.get("extra_args", [])
    if not isinstance(extra, list) or not all(isinstance(arg, str) for arg in extra):
        raise ConfigError(f"{source}: [android.runners.{backend}] extra_args must be a list of strings")
    return RunnerLocation(str(table.get("host_path", "")), str(table.get("device_path", "")),
                          str(table.get("version", "")), tuple(extra))


def settings_from_table(table: dict[str, Any], workdir: str = "", source: str = "profile") -> AndroidSettings:
    """Typed settings from the `[android]` table as the profile loader keeps it."""
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key == "runners":
            continue
        kind = _TOP_KEYS.get(key)
        if kind is None:
            raise ConfigError(f"{source}: unknown key '{key}' in [android]",
                              hint=f"known keys: runners, {', '.join(_TOP_KEYS)}")
        if kind is bool and not isinstance(value, bool) or kind is not bool and not isinstance(value, (int, float)):
            raise ConfigError(f"{source}: [android] {key} must be a {kind.__name__}")
        values[key] = kind(value)
    runners = table.get("runners", {})
    if not isinstance(runners, dict):
        raise ConfigError(f"{source}: [android.runners] must be a table of backends")
    locations = {backend: _location(backend, sub, source) for backend, sub in runners.items()}
    return AndroidSettings(workdir=workdir or DEFAULT_WORKDIR, runners=locations, **values)


def settings_from_profile(profile: Any) -> AndroidSettings:
    """Typed settings from a `DeviceProfile` (its `android` table and `workdir`)."""
    return settings_from_table(getattr(profile, "android", {}) or {}, getattr(profile, "workdir", ""),
                               getattr(profile, "source", "") or getattr(profile, "name", "profile"))
