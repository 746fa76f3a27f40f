"""The local transport: this machine, through subprocess and a working folder.

With no `workdir` in the profile, a temporary folder is used and removed on
`close()`. push and pull are copies.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import signal as signal_module
import stat
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path

from edge_bench.devices.base import RUN_TAG, CommandResult, Transport
from edge_bench.devices.errors import CommandTimeout, RemoteCommandFailed, UnsafeWorkdir
from edge_bench.devices.profile import DeviceProfile
from edge_bench.devices.registry import register_transport


@register_transport
class LocalTransport(Transport):
    """The machine edge-bench runs on."""

    name = "local"
    remote = False
    default_workdir = ""

    def __init__(self, profile: DeviceProfile) -> None:
        super().__init__(profile)
        self._temp: str | None = None
        self._running: dict[str, int] = {}
        """Run tag -> process group of the command running with it (for stop_tagged)."""
        self._early_stops: dict[str, int] = {}
        """Run tag -> signal asked for before its command was registered (a cancel at the very start of a job):
        delivered as soon as it is. Tags are random per command, so an entry left by a stop after its command
        ended never meets another command."""
        self._tags_lock = threading.Lock()

    @classmethod
    def address(cls, profile: DeviceProfile) -> str:
        """Always this machine."""
        return "this machine"

    @property
    def workdir(self) -> str:
        """The profile's folder, or a temporary one made on first use."""
        if self.profile.workdir:
            return os.path.expanduser(self.profile.workdir)
        if self._temp is None:
            self._temp = tempfile.mkdtemp(prefix="edge-bench-local-")
            weakref.finalize(self, shutil.rmtree, self._temp, ignore_errors=True)  # even without close()
        return self._temp

    @property
    def python(self) -> str | None:
        """The profile's Python, or the one running edge-bench."""
        return self.profile.python or shlex.quote(sys.executable)  # one word when split (a path with spaces)

    def resolve(self, remote: str) -> str:
        """Like Transport.resolve, with '~' expanded."""
        return os.path.expanduser(super().resolve(remote))

    def _ready_workdir(self) -> str:
        workdir = self.workdir
        if not self._workdir_ready:
            try:
                os.makedirs(workdir, mode=0o700, exist_ok=True)
                info = os.lstat(workdir)
            except OSError as exc:
                raise RemoteCommandFailed(f"cannot create the working directory {workdir}: {exc.strerror}") from None
            problem = ("a symlink" if stat.S_ISLNK(info.st_mode) else "not a folder" if not stat.S_ISDIR(info.st_mode)
                       else f"owned by uid {info.st_uid}, not by you (uid {os.geteuid()})" if info.st_uid != os.geteuid()
                       else f"writable by others (mode {stat.S_IMODE(info.st_mode):o})" if info.st_mode & 0o022 else None)
            if problem:
                raise UnsafeWorkdir(f"the working directory {workdir} on this machine is not private ({problem})",
                                    hint=f"remove {workdir}, chmod 700 it if it is yours, or set workdir in the device profile to a private folder")
            self._workdir_ready = True
        return workdir

    def _run(self, argv: list[str], timeout: float | None, input: bytes | None, env: dict[str, str]) -> CommandResult:
        """Run `argv` here in its own process group (a timeout kills the whole group);
        a program that does not exist exits 127 like in a shell."""
        cwd = self._ready_workdir()
        started = time.perf_counter()
        try:
            proc = subprocess.Popen(argv, cwd=cwd, env={**os.environ, **env}, start_new_session=True,
                                    stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except (FileNotFoundError, PermissionError) as exc:
            code = 127 if isinstance(exc, FileNotFoundError) else 126
            return CommandResult(code, b"", f"{argv[0]}: {exc.strerror}\n".encode(), time.perf_counter() - started)
        tag = env.get(RUN_TAG)
        if tag:
            with self._tags_lock:
                self._running[tag] = proc.pid
                early = self._early_stops.pop(tag, None)
            if early is not None:
                _signal_group(proc.pid, early)
        guard = _Guard(proc.pid)
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise CommandTimeout(f"{argv[0]} did not finish within {timeout:g} s and was stopped") from None
        except BaseException:  # KeyboardInterrupt: leave nothing running
            _kill_group(proc)
            raise
        finally:
            guard.dismiss()
            if tag:
                with self._tags_lock:
                    self._running.pop(tag, None)
        return CommandResult(proc.returncode, out, err, time.perf_counter() - started)

    def stop_tagged(self, tag: str, signal: str = "TERM") -> None:
        """Signal the process group of the command running with `tag` (no /proc needed: macOS too)."""
        number = int(signal) if signal.isdigit() else getattr(signal_module, f"SIG{signal.upper()}", None)
        if number is None:
            return
        with self._tags_lock:
            pgid = self._running.get(tag)
            if pgid is None:  # not started yet, or its thread has not registered it: it gets the signal when it does
                self._early_stops[tag] = number
                return
        _signal_group(pgid, number)

    def push(self, local: Path, remote: str) -> None:
        """Copy a file or folder into the working folder (or an absolute path)."""
        self._ready_workdir()
        _copy(Path(local), Path(self.resolve(remote)))

    def pull(self, remote: str, local: Path) -> None:
        """Copy a file or folder out of the working folder (or an absolute path)."""
        self._ready_workdir()
        _copy(Path(self.resolve(remote)), Path(local))

    def check(self, timeout: float | None = None) -> None:
        """The working folder can be created."""
        self._ready_workdir()

    def close(self) -> None:
        """Remove the temporary working folder, if one was made."""
        super().close()
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None
            self._workdir_ready = False


def _signal_group(pgid: int, number: int) -> None:
    try:
        os.killpg(pgid, number)
    except (ProcessLookupError, PermissionError):
        pass


class _Guard:
    """A sidecar that kills a command's process group if this process dies first (SIGTERM, SIGKILL, a crash):
    it waits on a pipe only this process writes to, and the kernel closes it when we go (Linux and macOS)."""

    _SCRIPT = 'read _ ; kill -TERM -"$1" 2>/dev/null; sleep 2; kill -KILL -"$1" 2>/dev/null'

    def __init__(self, pgid: int) -> None:
        read_end, self._write = os.pipe()
        try:
            self._proc = subprocess.Popen(["sh", "-c", self._SCRIPT, "sh", str(pgid)], stdin=read_end, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, start_new_session=True)
        finally:
            os.close(read_end)

    def dismiss(self) -> None:
        """The command is over (or killed by us): stop the sidecar without letting it fire."""
        self._proc.kill()
        self._proc.wait()
        os.close(self._write)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()


def _copy(source: Path, dest: Path) -> None:
    """A file to exactly `dest`, or a folder's contents into `dest`."""
    try:
        if source.is_dir():
            shutil.copytree(source, dest, dirs_exist_ok=True, symlinks=True)
        elif source.is_file():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest)
        else:
            raise RemoteCommandFailed(f"cannot copy {source}: no such file or folder")
    except OSError as exc:
        raise RemoteCommandFailed(f"cannot copy {source} to {dest}: {exc.strerror or exc}") from None
