"""Transports by name: a profile's `transport = "ssh"` picks the class here.

Each transport module registers its class on import with `register_transport`;
adding a transport is adding one module to `_MODULES`.
"""

from __future__ import annotations

import importlib
import threading
import warnings
from typing import TYPE_CHECKING

from edge_bench.devices.schema import closest
from edge_bench.errors import ConfigError

if TYPE_CHECKING:
    from edge_bench.devices.base import Transport
    from edge_bench.devices.profile import DeviceProfile

_REGISTRY: dict[str, type[Transport]] = {}
_MODULES = ("edge_bench.devices.local", "edge_bench.devices.ssh", "edge_bench.devices.adb")
_LOADED = False


def register_transport(cls: type[Transport]) -> type[Transport]:
    """Class decorator: make `cls` available under `cls.name`."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        warnings.warn(f"transport {cls.name!r} registered twice; the last one wins", stacklevel=2)
    _REGISTRY[cls.name] = cls
    return cls


_LOAD_LOCK = threading.RLock()
"""Threads (a lab run's devices) wait for the first one to fill the registry instead of seeing it half-filled."""


def _load() -> None:
    global _LOADED
    with _LOAD_LOCK:
        if not _LOADED:
            _LOADED = True
            for module in _MODULES:
                importlib.import_module(module)


def transport_names() -> list[str]:
    """Registered transport names."""
    _load()
    return sorted(_REGISTRY)


def transport_class(name: str, source: str = "") -> type[Transport]:
    """The class registered as `name`; an unknown name is a ConfigError."""
    _load()
    if name not in _REGISTRY:
        guess = closest(name, _REGISTRY)
        where = f" in {source}" if source else ""
        hint = f"did you mean {guess!r}?" if guess else f"known transports: {', '.join(sorted(_REGISTRY))}"
        raise ConfigError(f"unknown transport {name!r}{where}", hint=hint)
    return _REGISTRY[name]


def open_transport(profile: DeviceProfile) -> Transport:
    """A transport to the profile's device (nothing is connected until first use)."""
    return transport_class(profile.transport, profile.source)(profile)
