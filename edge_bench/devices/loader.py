"""Finding, reading and checking device profiles.

Shipped profiles live in `edge_bench.device_profiles` (the repository's
`device_profiles/`); the user's own in `<config dir>/devices/*.toml`. A user
file overrides a shipped one of the same name.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from importlib import resources
from pathlib import Path

from edge_bench import paths
from edge_bench.devices.errors import UnknownDevice
from edge_bench.devices.profile import INTERNAL_FIELDS, KNOWN_BACKENDS, DeviceProfile
from edge_bench.devices.schema import build, closest
from edge_bench.errors import ConfigError

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def user_profiles_dir() -> Path:
    """The folder of the user's own profiles (created on first use)."""
    folder = paths.config_dir() / "devices"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shipped_profile_files() -> list[Path]:
    """The TOML files shipped with edge-bench."""
    root = resources.files("edge_bench.device_profiles")
    return sorted(Path(str(item)) for item in root.iterdir() if item.name.endswith(".toml"))


def profile_files() -> dict[str, Path]:
    """Profile name -> file, the user's files overriding shipped ones of the same name."""
    found = {path.stem: path for path in shipped_profile_files()}
    found.update({path.stem: path for path in sorted(user_profiles_dir().glob("*.toml"))})
    return found


def read_profile(path: Path) -> DeviceProfile:
    """One profile file, parsed and checked; any problem is a ConfigError naming the file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read device profile {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"device profile {path} is not valid TOML: {exc}") from None
    data.setdefault("name", path.stem)
    profile = build(DeviceProfile, data, str(path), skip=INTERNAL_FIELDS)
    profile.source = str(path)
    check_profile(profile, path)
    if profile.describe_host:
        from edge_bench.devices.host_cpu import describe_host

        cpu = describe_host()
        profile.description, profile.peak_gflops, profile.peak_gflops_derivation = (
            cpu.description, cpu.peak_gflops, cpu.derivation)
    return profile


def check_profile(profile: DeviceProfile, path: Path) -> None:
    """Checks beyond types: names, ranges, backends, and the transport's own needs."""
    from edge_bench.devices.registry import transport_class

    if profile.name != path.stem:
        shown = profile.name if profile.name.isprintable() else repr(profile.name)
        raise ConfigError(f"name {profile.name!r} in {path} differs from the file name", hint=f"rename the file to {shown}.toml or fix name")
    transport = transport_class(profile.transport, source=str(path))
    if profile.workdir and not profile.workdir.startswith(("/", "~/")):
        raise ConfigError(f"workdir must be an absolute path or start with ~/, not {profile.workdir!r}, in {path}")
    if profile.threads < 1:
        raise ConfigError(f"threads must be at least 1, not {profile.threads}, in {path}")
    if any(cpu < 0 for cpu in profile.affinity):
        raise ConfigError(f"affinity lists CPU ids, which are >= 0: {profile.affinity} in {path}")
    if profile.peak_gflops < 0:
        raise ConfigError(f"peak_gflops must be >= 0 in {path}")
    for backend in profile.backends:
        if backend not in KNOWN_BACKENDS:
            guess = closest(backend, KNOWN_BACKENDS)
            hint = f"did you mean {guess!r}?" if guess else f"known: {', '.join(KNOWN_BACKENDS)}"
            raise ConfigError(f"unknown backend {backend!r} in {path}", hint=hint)
    for name in profile.env:
        if not _ENV_NAME.match(name):
            raise ConfigError(f"env.{name!r} is not a valid environment variable name in {path}")
    try:
        shlex.split(profile.python)
    except ValueError as exc:
        raise ConfigError(f"python {profile.python!r} in {path} does not split into words: {exc}",
                          hint="quote it as a shell would, e.g. python = \"'/opt/my venv/bin/python' -X utf8\"") from None
    for step, seconds in vars(profile.timeouts).items():
        if seconds < 0 or (seconds == 0 and step != "lock"):
            raise ConfigError(f"timeouts.{step} must be a number of seconds > 0, not {seconds!r}, in {path}")
    transport.validate(profile, str(path))


def load_profile(name: str) -> DeviceProfile:
    """The profile called `name` (or read from `name` when it is a path to a .toml file)."""
    if name.endswith(".toml"):
        path = Path(name).expanduser()
        if not path.is_file():
            raise ConfigError(f"device profile file not found: {path}")
        return read_profile(path)
    files = profile_files()
    if name not in files:
        guess = closest(name, files)
        known = ", ".join(sorted(files)) or "none"
        hint = (f"did you mean {guess!r}? " if guess else "") + f"known devices: {known}; add your own in {user_profiles_dir()}"
        raise UnknownDevice(f"unknown device {name!r}", hint=hint)
    return read_profile(files[name])


def scan_profiles() -> tuple[list[DeviceProfile], list[ConfigError]]:
    """Every profile that reads cleanly, and the errors of those that do not."""
    profiles, errors = [], []
    for _, path in sorted(profile_files().items()):
        try:
            profiles.append(read_profile(path))
        except ConfigError as exc:
            errors.append(exc)
    return profiles, errors


def list_profiles() -> list[DeviceProfile]:
    """Every profile, by name; the first broken file raises its ConfigError."""
    profiles, errors = scan_profiles()
    if errors:
        raise errors[0]
    return profiles
