"""The adb transport: an Android device through the real `adb` client.

`run` is `adb -s SERIAL shell 'one quoted line'` (every argument quoted, so it
reaches the program verbatim); push and pull are `adb push` / `adb pull`. The
device is picked from `adb devices -l` on first use: the profile's serial, or
the only device attached. Android-specific runners (benchmark_model,
executor_runner) live in `edge_bench.android` and build on this class.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from edge_bench.devices.adb_devices import AdbDevice, parse_devices, select_device
from edge_bench.devices.base import (
    UNSAFE_STATUS,
    CommandResult,
    Transport,
    command_script,
    posix_parent,
    shell_path,
    split_status,
    strip_start,
    unsafe_workdir,
)
from edge_bench.devices.errors import CommandTimeout, ConnectionFailed, ConnectionLost, RemoteCommandFailed, ToolMissing
from edge_bench.devices.profile import DeviceProfile
from edge_bench.devices.registry import register_transport

# Lines adb prints when it, not the command, failed; the device went away or is not usable.
_ADB_FAILURES = ("error: device", "error: no devices", "error: closed", "adb: device", "adb: no devices",
                 "error: protocol fault", "error: cannot connect to daemon", "adb: error: failed to get feature set")


@register_transport
class AdbTransport(Transport):
    """An Android phone or board reached with adb over USB or TCP."""

    name = "adb"
    binary = "adb"
    default_workdir = "/data/local/tmp/edge-bench"

    def __init__(self, profile: DeviceProfile) -> None:
        super().__init__(profile)
        adb = shutil.which(os.path.expanduser(profile.adb.binary))
        if adb is None:
            raise ToolMissing(f"the adb client ({profile.adb.binary}) is not installed here",
                              hint="install Android platform-tools (Debian: apt install adb) or set [adb] binary")
        self.adb = adb
        self._device: AdbDevice | None = None

    @classmethod
    def address(cls, profile: DeviceProfile) -> str:
        """The serial, or '(only device)' when the profile names none."""
        return profile.adb.serial or "(only device)"

    def devices(self, timeout: float = 15.0) -> list[AdbDevice]:
        """What `adb devices -l` lists now (starts the adb server when needed)."""
        try:
            proc = subprocess.run([self.adb, "devices", "-l"], capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise ConnectionFailed("the adb server did not answer `adb devices`", reason="timeout",
                                   hint="run `adb kill-server` and retry") from None
        if proc.returncode != 0:
            detail = " ".join(proc.stderr.decode("utf-8", "replace").split())
            raise ConnectionFailed(f"`adb devices` failed: {detail}", reason="unreachable")
        return parse_devices(proc.stdout.decode("utf-8", "replace"))

    def device(self, timeout: float = 15.0) -> AdbDevice:
        """The ready device this profile means (checked once, then remembered)."""
        if self._device is None:
            self._device = select_device(self.devices(timeout), self.profile.adb.serial)
        return self._device

    def adb_command(self, *args: str, timeout: float | None = None, input: bytes | None = None) -> subprocess.CompletedProcess:
        """`adb -s SERIAL args...` with output captured; for runners that need adb itself."""
        argv = [self.adb, "-s", self.device().serial, *args]
        try:
            return subprocess.run(argv, capture_output=True, timeout=timeout, input=input,
                                  stdin=None if input is not None else subprocess.DEVNULL)
        except subprocess.TimeoutExpired:  # subprocess.run killed the adb client
            step = {"push": "push", "pull": "pull"}.get(args[0], "command" if args[0] == "shell" else "job")
            raise CommandTimeout(f"adb {args[0]} on {self.device().serial} did not finish within {timeout:g} s and was stopped",
                                 hint=f"check the device (adb devices); raise timeouts.{step} in the profile for slow links") from None

    def _run(self, argv: list[str], timeout: float | None, input: bytes | None, env: dict[str, str]) -> CommandResult:
        """Run `argv` in the device shell; see Transport.run."""
        script = command_script(argv, self.workdir, env, not self._workdir_ready)
        started = time.perf_counter()
        proc = self.adb_command("shell", script, timeout=timeout, input=input)
        status, out, err = split_status(proc.stdout, proc.stderr)
        began, err = strip_start(err)
        if not began:  # adb clients that merge the streams
            began, out = strip_start(out)
        if status is None:
            raise self._failure(proc.stderr or proc.stdout)
        if status == UNSAFE_STATUS and not began:
            unsafe = unsafe_workdir(err + out, self.workdir, f"the Android device {self.device().serial}")
            if unsafe:
                raise unsafe
        self._workdir_ready = True
        return CommandResult(status, out, err, time.perf_counter() - started)

    def _failure(self, output: bytes) -> ConnectionFailed:
        """The error for an adb call that ended without the command's exit status."""
        text = " ".join(output.decode("utf-8", "replace").split())
        serial = self._device.serial if self._device else self.profile.adb.serial or "device"
        self._device = None  # look the device up again next time
        if not text or any(marker in text for marker in _ADB_FAILURES):
            return ConnectionLost(f"lost the Android device {serial}: {text or 'adb ended without output'}",
                                  hint="check the cable (or Wi-Fi for adb over TCP) and `adb devices`")
        return ConnectionFailed(f"adb shell on {serial} failed: {text[-300:]}", reason="unreachable")

    def push(self, local: Path, remote: str) -> None:
        """`adb push`: a file to exactly `remote`, or a folder's contents into `remote`."""
        local, dest = Path(local), self.resolve(remote)
        if local.is_dir():
            self.run(["mkdir", "-p", dest], timeout=self.profile.timeouts.command).check(f"creating {dest} on the device")
            entries = [str(p) for p in sorted(local.iterdir())]
            if entries:
                self._sync("push", *entries, dest + "/")
        elif local.is_file():
            self.run(["mkdir", "-p", posix_parent(dest)], timeout=self.profile.timeouts.command).check(
                f"creating the folder of {dest} on the device")
            self._sync("push", str(local), dest)
        else:
            raise RemoteCommandFailed(f"cannot push {local}: no such file or folder here")

    def pull(self, remote: str, local: Path) -> None:
        """`adb pull`: a file to exactly `local`, or a folder's contents into `local`."""
        local, source = Path(local), self.resolve(remote)
        local.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=local.parent, prefix=".edge-bench-pull-") as tmp:
            self._sync("pull", source, tmp)
            pulled = Path(tmp) / Path(source.rstrip("/")).name
            if pulled.is_dir():
                shutil.copytree(pulled, local, dirs_exist_ok=True)
            else:
                os.replace(pulled, local)

    def _sync(self, verb: str, *args: str) -> None:
        """`adb push` / `adb pull` within the profile's timeouts.push / timeouts.pull."""
        limits = self.profile.timeouts
        proc = self.adb_command(verb, *args, timeout=limits.push if verb == "push" else limits.pull)
        if proc.returncode != 0:
            text = (proc.stderr or proc.stdout).decode("utf-8", "replace")
            if any(marker in text for marker in _ADB_FAILURES):
                raise self._failure(text.encode())
            raise RemoteCommandFailed(f"adb {verb} failed: {' '.join(text.split())[-300:]}")

    def check(self, timeout: float | None = None) -> None:
        """A ready device is attached and its workdir can be made; raises ConnectionFailed if not."""
        timeout = timeout or self.profile.timeouts.check
        self._device = None
        self.device(timeout)
        script = command_script(["true"], self.workdir, {}, make_workdir=True)
        proc = self.adb_command("shell", script, timeout=timeout)
        status, _, err = split_status(proc.stdout, proc.stderr)
        if status is None:
            raise self._failure(proc.stderr or proc.stdout)
        unsafe = unsafe_workdir(err + proc.stdout, self.workdir, f"the Android device {self.device().serial}")
        if status == UNSAFE_STATUS and unsafe:
            raise unsafe
        CommandResult(status, b"", strip_start(err)[1]).check(f"creating {shell_path(self.workdir)} on the device")

