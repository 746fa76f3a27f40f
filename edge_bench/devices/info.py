"""A device's fingerprint, taken through its transport.

With a Python on the device, `edge_bench/agent/fingerprint.py` is sent on
stdin to that Python (no file is left behind). Without one (Android), the same
facts are read by a POSIX shell script and parsed here with the same code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import json
from pathlib import Path

from edge_bench.agent import fingerprint
from edge_bench.devices.device_python import python_argv
from edge_bench.errors import DeviceError

if TYPE_CHECKING:
    from edge_bench.devices.base import Transport

FINGERPRINT_TIMEOUT_S = 60.0
ISOLATED_STDIN = ("import os, sys; cwd = os.path.realpath(os.getcwd()); "
                  "sys.path[:] = [p for p in sys.path if p and os.path.realpath(p) != cwd]; "
                  "exec(compile(sys.stdin.read(), '<edge-bench fingerprint>', 'exec'), {'__name__': '__main__'})")
"""`python -c` this with a script on stdin: it runs with the working directory off sys.path (nothing planted
there is imported), like `python -` otherwise."""


def fingerprint_source() -> bytes:
    """The fingerprint script's text, as sent to devices."""
    return Path(fingerprint.__file__).read_bytes()


def collect_info(transport: Transport, timeout: float | None = None) -> dict:
    """The fingerprint of the transport's device, plus how it was taken (within `timeout`, default the profile's
    timeouts.command)."""
    timeout = timeout or transport.profile.timeouts.command
    python = transport.python
    if python:
        result = transport.run([*python_argv(python), "-c", ISOLATED_STDIN], input=fingerprint_source(), timeout=timeout)
        if result.returncode in (126, 127):
            raise DeviceError(f"{python} is not runnable on the device ({result.stderr.decode(errors='replace').strip()})",
                              hint="set `python` in the device profile to the device's Python 3, or '' for none")
        info = _json(result.check(f"the fingerprint script under {python}").stdout, python)
        info["collected_with"] = python
    else:
        result = transport.run(["sh", "-c", fingerprint.SHELL_SNAPSHOT], timeout=timeout)
        info = fingerprint.build(fingerprint.parse_shell_snapshot(result.check("the fingerprint shell script").text()))
        info["python"], info["runtimes"], info["collected_with"] = None, {}, "sh"
    info["transport"] = transport.name
    return info


def _json(stdout: bytes, python: str) -> dict:
    try:
        return json.loads(stdout)
    except ValueError:
        raise DeviceError(f"the fingerprint script under {python} printed no JSON: {stdout[:200]!r}") from None
