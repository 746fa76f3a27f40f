"""The one interface every transport offers: run, push, pull, info, check, close.

Commands are argv lists, never shell strings: remote transports quote every
argument with `shlex.quote`, so an argument reaches the program verbatim.
Relative remote paths resolve under the profile's working directory.
"""

from __future__ import annotations

import posixpath
import re
import secrets
import shlex
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from edge_bench.devices.errors import CommandTimeout, RemoteCommandFailed, UnsafeWorkdir
from edge_bench.devices.profile import DeviceProfile
from edge_bench.errors import EdgeBenchError


@dataclass(frozen=True)
class CommandResult:
    """What a command that ran produced: its exit status and both output streams."""

    returncode: int
    stdout: bytes
    stderr: bytes
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the command exited 0."""
        return self.returncode == 0

    def text(self) -> str:
        """stdout decoded as UTF-8 (undecodable bytes replaced)."""
        return self.stdout.decode("utf-8", "replace")

    def check(self, what: str) -> CommandResult:
        """Self when the command exited 0, else a RemoteCommandFailed quoting its stderr."""
        if not self.ok:
            detail = " ".join(self.stderr.decode("utf-8", "replace").split())[-300:]
            raise RemoteCommandFailed(f"{what} failed with exit status {self.returncode}: {detail or 'no output'}")
        return self


class Transport(ABC):
    """A way to run commands and move files on one device.

    Subclasses set the capability flags below, register with
    `edge_bench.devices.registry.register_transport`, and implement `_run`,
    `push`, `pull` and `check`. Use as a context manager, or call `close()`.
    """

    name: ClassVar[str] = ""
    """The profile's `transport` value."""
    remote: ClassVar[bool] = True
    """Commands run on another machine."""
    stops_with_host: ClassVar[bool] = False
    """The device ends a command by itself when the host is interrupted, killed or cut off (ssh's watched line);
    otherwise (adb) an interrupted `run` stops the command's processes on the device before it gives up."""
    default_workdir: ClassVar[str] = "~/.cache/edge-bench"
    """Working directory when the profile sets none."""
    binary: ClassVar[str | None] = None
    """Client program this transport drives (ssh, adb), or None."""

    def __init__(self, profile: DeviceProfile) -> None:
        self.profile = profile
        self._workdir_ready = False
        self._lock = None

    # --- class-level description and checks -------------------------------------------

    @classmethod
    def address(cls, profile: DeviceProfile) -> str:
        """Where the profile's device is, for people."""
        return cls.name

    @classmethod
    def validate(cls, profile: DeviceProfile, source: str) -> None:
        """Raise ConfigError when the profile lacks what this transport needs."""

    # --- paths -------------------------------------------------------------------------

    @property
    def workdir(self) -> str:
        """The device-side working directory (created on first use)."""
        return self.profile.workdir or self.default_workdir

    @property
    def python(self) -> str | None:
        """The device's Python, or None when the device has none."""
        return self.profile.python or None

    def resolve(self, remote: str) -> str:
        """A device path: absolute or '~/' paths as given, others under the workdir."""
        if remote.startswith(("/", "~/")) or remote == "~":
            return remote
        return posixpath.join(self.workdir, remote)

    # --- the interface -----------------------------------------------------------------

    def run(
        self, argv: list[str], timeout: float | None = None, input: bytes | None = None, env: dict[str, str] | None = None,
        tag: str | None = None,
    ) -> CommandResult:
        """Run `argv` in the workdir with the profile's env (plus `env`); its exit status
        comes back in the result. No exit status (connection failure) raises
        ConnectionFailed / ConnectionLost. `timeout` None = the profile's timeouts.job.
        A timeout raises CommandTimeout after the
        command and everything it started are killed on the device. `tag` names the
        command for `stop_tagged` (another thread may stop it while it runs)."""
        if not argv:
            raise ValueError("run() needs a program to run")
        if timeout is None:  # nothing waits forever on a device: at most one job's limit
            timeout = self.profile.timeouts.job
        tag = tag or secrets.token_hex(8)
        try:
            return self._run(list(argv), timeout, input, {**self.profile.env, **(env or {}), RUN_TAG: tag})
        except CommandTimeout:
            if self.remote:
                self._stop_tagged(tag)
            raise
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM through edge_bench.cli.interrupts
            if self.remote and not self.stops_with_host:
                self._stop_tagged(tag)  # the device would not notice on its own: stop what the command started
            raise

    @abstractmethod
    def _run(self, argv: list[str], timeout: float | None, input: bytes | None, env: dict[str, str]) -> CommandResult:
        """Run `argv` with exactly `env` added to the device's environment (see `run`)."""

    def stop_tagged(self, tag: str, signal: str = "TERM") -> None:
        """Send `signal` to a command started with `run(..., tag=tag)` and everything it started."""
        self._run(["sh", "-c", kill_tagged_script(tag, signal)], 15.0, None, dict(self.profile.env))

    def _stop_tagged(self, tag: str) -> None:
        """Best effort: kill what a timed-out command left running on the device."""
        try:
            self._run(["sh", "-c", kill_tagged_script(tag)], 15.0, None, dict(self.profile.env))
        except EdgeBenchError:
            pass

    @abstractmethod
    def push(self, local: Path, remote: str) -> None:
        """Copy a local file or folder to exactly `remote` (a folder's contents go into it)."""

    @abstractmethod
    def pull(self, remote: str, local: Path) -> None:
        """Copy a device file or folder to exactly `local` (a folder's contents go into it)."""

    @abstractmethod
    def check(self, timeout: float | None = None) -> None:
        """Return when the device is reachable and its workdir usable, else raise DeviceError."""

    def info(self) -> dict:
        """The device fingerprint: CPU, frequencies, memory, OS, temperatures, runtimes."""
        from edge_bench.devices.info import collect_info

        return collect_info(self)

    def lock(self) -> None:
        """Hold this device's lock until `close()`, so no other edge-bench process runs on it meanwhile;
        waits up to the profile's timeouts.lock, then raises DeviceBusy naming the holder."""
        if self._lock is None:
            from edge_bench.devices.lock import DeviceLock

            lock = DeviceLock(f"{self.name}:{self.address(self.profile)}", self.profile.name)
            lock.acquire(self.profile.timeouts.lock)
            self._lock = lock

    def unlock(self) -> None:
        """Release the device lock, if held."""
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()

    def close(self) -> None:
        """Release connections, temporary files and the device lock; safe to call twice."""
        self.unlock()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- shell scripts for remote transports ------------------------------------------------

EXIT_MARK = "edge-bench-exit-status:"
"""Printed to stderr after the command with its status: its absence means no status."""

RUN_TAG = "EDGE_BENCH_RUN"
"""Environment variable carrying a per-command token, inherited by everything the command
starts, so that a timed-out command's whole process tree can be found and killed."""

START_MARK = "edge-bench-started"
"""Printed to stderr just before the command: its absence means the command never started."""

UNSAFE_MARK = "edge-bench-unsafe-workdir:"
"""Printed to stderr (with `ls -ld` of the folder) when the workdir is not private."""
UNSAFE_STATUS = 86

_EXIT_RE = re.compile(rb"edge-bench-exit-status:(\d+)\r?\n?\Z")


def shell_path(path: str) -> str:
    """A device path as one shell word; a leading '~/' stays the remote home."""
    if path == "~":
        return '"$HOME"'
    if path.startswith("~/"):
        return '"$HOME"/' + shlex.quote(path[2:])
    return shlex.quote(path)


def posix_parent(path: str) -> str:
    """The parent folder of a device path ('.' for a bare name)."""
    head = path.rstrip("/").rpartition("/")[0]
    return head or ("/" if path.startswith("/") else ".")


def workdir_steps(wd: str) -> list[str]:
    """Shell steps making the workdir (0700) and refusing one that is not private: a symlink, not the
    login user's, or group- or world-writable (see `unsafe_workdir`)."""
    unsafe = f'[ -L {wd} ] || [ ! -O {wd} ] || [ -n "$(find {wd} -prune \\( -perm -020 -o -perm -002 \\) -print)" ]'
    return ["umask 077", f"mkdir -p {wd}",
            f'if {unsafe}; then echo "{UNSAFE_MARK}$(ls -ld {wd} 2>&1)" >&2; exit {UNSAFE_STATUS}; fi']


def command_script(argv: list[str], workdir: str, env: dict[str, str], make_workdir: bool, watch: float = 0.0) -> str:
    """A POSIX shell line that runs `argv` verbatim in `workdir` with `env`, then reports
    the exit status on stderr (see `split_status`).

    With `watch` (seconds > 0), the command's stdin is /dev/null and the line watches its own
    stdin instead, where the host writes a heartbeat line every `watch` / 6 seconds: when stdin
    ends (the host closed it, died, or the connection dropped) or no heartbeat came for `watch`
    seconds (a host that froze or lost its network), the command and its children are stopped
    (TERM, then KILL): nothing outlives its host."""
    line = " ".join(shlex.quote(arg) for arg in argv)
    if not watch:
        return wrap_script(line, workdir, env, make_workdir)
    env = dict(env)
    tag = env.pop(RUN_TAG, None) or secrets.token_hex(8)  # only the command's tree carries it, never the watchers
    stop = f"trap '' TERM; sh -c {shlex.quote(_STOP_SCRIPT)} sh \"$c\" {shlex.quote(tag)}"  # sh, whatever the login shell
    quiet = "</dev/null >/dev/null 2>&1 &"
    half = max(1, round(watch / 2))
    pid_file = shlex.quote(_pid_file(tag))
    body = ("exec 3<&0; "
            f"( export {shlex.quote(f'{RUN_TAG}={tag}')} && {line}\n) 3<&- </dev/null & c=$!; b=.edge-bench-beat-$c; echo $c > {pid_file}; "
            f'( n=0; while read -r x <&3; do n=$((n+1)); echo "$n" > "$b"; done; {stop} ) {quiet} w=$!; '
            f'( l=x; while sleep {half}; do n=$(cat "$b" 2>/dev/null); [ "$n" = "$l" ] && break; l=$n; done; {stop} ) {quiet} k=$!; '
            f'exec 3<&-; wait "$c"; s=$?; kill "$w" "$k" 2>/dev/null; rm -f "$b" {pid_file}; exit "$s"')
    return wrap_script(body, workdir, env, make_workdir)


def wrap_script(body: str, workdir: str, env: dict[str, str], make_workdir: bool) -> str:
    """A trusted shell `body` run in `workdir` with `env` in a subshell, then its exit
    status on stderr. The body starts after START_MARK is written to stderr: output
    before it is the transport's own, after it the device's."""
    wd = shell_path(workdir)
    steps = workdir_steps(wd) if make_workdir else ["umask 077"]
    steps.append(f"cd {wd}")
    steps += [f"export {shlex.quote(f'{key}={value}')}" for key, value in env.items()]
    steps.append(f'echo "{START_MARK}" >&2')
    steps.append(f"{{ {body}\n}}")
    # A subshell, so that not even `exit` or `exec` in the body skips the report.
    return "(" + " && ".join(steps) + f'); echo "{EXIT_MARK}$?" >&2'


def kill_tagged_script(tag: str, signal: str = "9") -> str:
    """A shell line (run in the workdir) signalling (default: killing) a command started with `tag`: the
    watched command whose pid its line recorded and that command's children (any POSIX system, macOS
    too), and every process whose environment holds RUN_TAG=tag (Linux and Android /proc)."""
    by_pid = (f'if [ -f {shlex.quote(_pid_file(tag))} ]; then c=$(cat {shlex.quote(_pid_file(tag))}); '
              f'pkill -{signal} -P "$c" 2>/dev/null; kill -{signal} "$c" 2>/dev/null; fi')
    return by_pid + "; " + _kill_env_script(shlex.quote(tag), signal) + "; true"


def _pid_file(tag: str) -> str:
    """The workdir file where a watched command's line records its pid."""
    return f".edge-bench-pid-{tag}"


def _kill_env_script(tag_word: str, signal: str) -> str:
    """`kill -signal` every /proc process whose environment holds RUN_TAG=<tag_word> (a shell word)."""
    if not signal.isalnum():
        raise ValueError(f"not a signal name: {signal!r}")
    return (f'for p in /proc/[0-9]*; do grep -qsF "{RUN_TAG}="{tag_word} "$p/environ" 2>/dev/null '
            f'&& kill -{signal} "${{p#/proc/}}" 2>/dev/null; done')


_STOP_SCRIPT = (
    # $1 = the command's pid, $2 = its tag. Children first (pkill -P: Linux and macOS), then the command,
    # then any descendant carrying the tag (/proc systems); TERM, two seconds, KILL.
    'for s in TERM KILL; do pkill -$s -P "$1" 2>/dev/null; kill -$s "$1" 2>/dev/null; '
    'for p in /proc/[0-9]*; do grep -qsF "' + RUN_TAG + '=$2" "$p/environ" 2>/dev/null && kill -$s "${p#/proc/}" 2>/dev/null; done; '
    '[ $s = KILL ] || sleep 2; done')


def strip_start(stderr: bytes) -> tuple[bool, bytes]:
    """Whether the remote line got as far as its command (START_MARK), and stderr without the mark."""
    mark = START_MARK.encode() + b"\n"
    at = stderr.find(mark)
    if at < 0:
        return False, stderr
    return True, stderr[:at] + stderr[at + len(mark):]


def unsafe_workdir(stderr: bytes, workdir: str, where: str) -> UnsafeWorkdir | None:
    """The error for a workdir that `workdir_steps` refused, or None."""
    text = stderr.decode("utf-8", "replace")
    at = text.find(UNSAFE_MARK)
    if at < 0:
        return None
    listing = " ".join(text[at + len(UNSAFE_MARK):].split("\n", 1)[0].split())
    return UnsafeWorkdir(f"the working directory {workdir} on {where} is not private ({listing}): it must be a folder owned by "
                         "the login user and writable by no one else", hint=f"remove {workdir} on the device, chmod 700 it if it is "
                         "yours, or set workdir in the device profile to a private folder")


def split_status(stdout: bytes, stderr: bytes) -> tuple[int | None, bytes, bytes]:
    """The exit status reported by `command_script` and both streams without the report;
    None when the report is missing (the connection failed before the command ended).
    The report is looked for in stderr, then in stdout (clients that merge the streams)."""
    match = _EXIT_RE.search(stderr)
    if match:
        return int(match.group(1)), stdout, stderr[: match.start()]
    match = _EXIT_RE.search(stdout)
    if match:
        return int(match.group(1)), stdout[: match.start()], stderr
    return None, stdout, stderr
