"""One Android phone behind an adb transport: its fingerprint and state, its runners, one run.

Everything goes through the transport's `run`, `push` and `pull` (edge_bench.devices);
scripts are passed to `sh -c` with their values as positional parameters.
"""

from __future__ import annotations

import hashlib
import posixpath
from pathlib import Path
from typing import Any

from edge_bench.android import scripts, sysinfo
from edge_bench.android.elf import check_abi, parse_elf_header, read_elf
from edge_bench.android.errors import RunnerMissing, RunnerNotExecutable
from edge_bench.android.settings import AndroidSettings, RunnerLocation


class AndroidDevice:
    """Commands on one phone for the native-runner path."""

    def __init__(self, transport: Any, settings: AndroidSettings) -> None:
        self.transport = transport
        self.settings = settings
        self.workdir = settings.workdir
        self._taskset: str | None = None

    def sh(self, script: str, *args: str, timeout: float | None = 60.0) -> str:
        """Run a shell script on the phone (`sh -c SCRIPT edge-bench ARGS...`) and return its stdout."""
        result = self.transport.run(["sh", "-c", script, "edge-bench", *args], timeout=timeout)
        out = result.stdout
        return out.decode("utf-8", "replace") if isinstance(out, bytes) else str(out)

    def fingerprint(self) -> dict:
        """Model, maker, SoC, Android version, ABIs, cores, and the state below."""
        sections = scripts.split_sections(self.sh(scripts.PROBE_SCRIPT))
        props = sysinfo.parse_getprop(sections.get("getprop", ""))
        out = sysinfo.fingerprint_from_props(props)
        out["cpu"] = sysinfo.parse_cpuinfo(sections.get("cpuinfo", ""))
        out["state"] = state_from_sections(sections)
        return out

    def state(self) -> dict:
        """Temperatures, CPU governor and frequencies, battery: read before and after each run."""
        return state_from_sections(scripts.split_sections(self.sh(scripts.STATE_SCRIPT)))

    def mkdir(self, path: str) -> None:
        """Create a folder on the phone."""
        self.transport.run(["mkdir", "-p", path], timeout=30.0)

    def push_file(self, local: Path, remote: str) -> None:
        """Copy one file to the phone, creating its folder."""
        self.mkdir(posixpath.dirname(remote))
        self.transport.push(Path(local), remote)

    def sha256(self, remote: str) -> str | None:
        """The SHA-256 of a file on the phone (toybox sha256sum), or None when it cannot be read."""
        result = self.transport.run(["sha256sum", remote], timeout=120.0)
        text = result.stdout.decode("utf-8", "replace") if isinstance(result.stdout, bytes) else str(result.stdout)
        word = text.split()[0] if text.split() else ""
        return word if result.returncode == 0 and len(word) == 64 else None

    def check_runner(self, path: str) -> scripts.RunnerCheck:
        """Whether a runner path exists and is executable on the phone, its ELF header, and taskset."""
        check = scripts.parse_runner_check(self.sh(scripts.RUNNER_CHECK_SCRIPT, path))
        if check.taskset:
            self._taskset = check.taskset
        return check

    @property
    def taskset(self) -> str | None:
        """The phone's taskset, once a runner check has looked for it."""
        return self._taskset

    def install_runner(self, backend: str, location: RunnerLocation, abilist: list[str]) -> str:
        """The runner's path on the phone, pushed from the host when the profile names a host file.

        Checks the ELF header against the phone's ABIs first, on the host before pushing;
        raises RunnerMissing, RunnerNotExecutable or AbiMismatch with what to do.
        """
        if location.host_path:
            local = Path(location.host_path).expanduser()
            check_abi(read_elf(local), abilist, f"the {backend} runner {local}")
            remote = posixpath.join(self.workdir, "bin", local.name)
            digest = hashlib.sha256(local.read_bytes()).hexdigest()
            if self.sha256(remote) != digest:
                self.push_file(local, remote)
            self.transport.run(["chmod", "755", remote], timeout=30.0)
            where = f"{remote} (pushed from {local})"
        else:
            remote = where = location.device_path
        check = self.check_runner(remote)
        if not check.exists:
            raise RunnerMissing(f"the {backend} runner is not on the phone: {where}",
                                hint="push it, or set host_path in the profile so edge-bench pushes it")
        check_abi(parse_elf_header(check.head), abilist, f"the {backend} runner {where}")
        if not check.executable:
            raise RunnerNotExecutable(
                f"the {backend} runner on the phone is not executable: {where}",
                hint=f"run 'adb shell chmod 755 {remote}'; keep runners under /data/local/tmp (/sdcard is mounted noexec)")
        return remote

    def run(self, argv: list[str], out_base: str, logcat_tag: str = "", timeout: float | None = None) -> scripts.RunCapture:
        """Run a runner in the workdir, sampling its PSS and VmHWM, and collect its output."""
        interval = f"{self.settings.sample_interval_s:g}" if self.settings.sample_interval_s > 0 else "3600"
        text = self.sh(scripts.RUN_SCRIPT, self.workdir, out_base, interval, logcat_tag, *argv,
                       timeout=timeout or self.settings.timeout_s)
        capture = scripts.parse_run_capture(text)
        if self.settings.sample_interval_s <= 0:
            capture.peak_pss_bytes = capture.peak_hwm_bytes = None
        return capture

    def pull(self, remote: str, local: Path) -> Path:
        """Copy one file from the phone."""
        local.parent.mkdir(parents=True, exist_ok=True)
        self.transport.pull(remote, local)
        return local


def state_from_sections(sections: dict[str, str]) -> dict:
    """Thermal zones, CPU frequencies and governor, and battery from the probe's sections."""
    freq = sysinfo.parse_cpufreq(sections.get("cpufreq", ""))
    return {"thermal": sysinfo.parse_thermal(sections.get("thermal", "")),
            "governor": freq["governor"], "cpufreq": freq["cpus"],
            "battery": sysinfo.parse_battery(sections.get("battery", ""))}
