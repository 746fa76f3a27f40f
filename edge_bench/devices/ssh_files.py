"""Moving files over an ssh connection as streams: `cat` for files, `tar` for folders.

One round trip per transfer, nothing but a POSIX shell, cat and tar needed on
the device (Raspberry Pi OS, macOS, busybox all qualify). A pulled file is
written to a temporary name and renamed, so a cut connection never leaves a
truncated file under the real name.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tarfile
import tempfile
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING, Callable

from edge_bench.devices.base import UNSAFE_STATUS, posix_parent, shell_path, split_status, strip_start, unsafe_workdir, wrap_script
from edge_bench.devices.errors import CommandTimeout, RemoteCommandFailed
from edge_bench.devices.ssh_errors import classify

if TYPE_CHECKING:
    from edge_bench.devices.ssh import SshTransport

PARTIAL = ".edge-bench-partial"


def push_stream(transport: SshTransport, local: Path, remote: str) -> None:
    """Copy a local file or folder to exactly `remote` on the device."""
    if local.is_dir():
        body = f"mkdir -p {shell_path(remote)} && cd {shell_path(remote)} && tar -xof -"
        _stream(transport, body, feed=lambda pipe: _write_tar(local, pipe), what=f"pushing {local}")
    elif local.is_file():
        parent, dest, tmp = shell_path(posix_parent(remote)), shell_path(remote), shell_path(remote + PARTIAL)
        body = f"mkdir -p {parent} && cat > {tmp} && mv -f {tmp} {dest}"
        with open(local, "rb") as handle:
            _stream(transport, body, stdin=handle, what=f"pushing {local}")
    else:
        raise RemoteCommandFailed(f"cannot push {local}: no such file or folder here")


def pull_stream(transport: SshTransport, remote: str, local: Path) -> None:
    """Copy a device file or folder to exactly `local`; a file appears only when complete."""
    path = shell_path(remote)
    missing = shlex.quote(f"no such file or folder on the device: {remote}")
    body = (f"if [ -d {path} ]; then printf d && cd {path} && COPYFILE_DISABLE=1 tar -cf - .; "
            f"elif [ -f {path} ]; then printf f && cat {path}; else echo {missing} >&2; (exit 2); fi")
    target = _PullTarget(local)
    try:
        _stream(transport, body, drain=target.receive, what=f"pulling {remote}")
        target.commit()
    finally:
        target.discard()


def _stream(transport: SshTransport, body: str, what: str, stdin: IO[bytes] | None = None,
            feed: Callable[[IO[bytes]], None] | None = None, drain: Callable[[IO[bytes]], None] | None = None,
            timeout: float | None = None) -> None:
    """Run a trusted shell `body`, feeding its stdin and/or draining its stdout as streams. After `timeout`
    seconds (default: the profile's push or pull limit) the transfer is cut and CommandTimeout raised, so a
    device that stops reading or writing fails the step instead of hanging it."""
    limits = transport.profile.timeouts
    timeout = timeout or (limits.pull if drain else limits.push)
    script = wrap_script(body, transport.workdir, {}, make_workdir=not transport._workdir_ready)
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(transport.ssh_args() + [script], stdout=subprocess.PIPE if drain else subprocess.DEVNULL,
                                stderr=errors, stdin=subprocess.PIPE if feed else (stdin or subprocess.DEVNULL))
        expired = threading.Event()

        def cut() -> None:
            expired.set()
            proc.kill()

        watchdog = threading.Timer(timeout, cut)
        watchdog.daemon = True
        watchdog.start()
        failure: BaseException | None = None
        try:
            if feed:
                feed(proc.stdin)
                proc.stdin.close()
            if drain:
                drain(proc.stdout)
        except (OSError, tarfile.TarError, ValueError) as exc:  # a broken pipe, a truncated stream, a killed client
            failure = exc
        except BaseException:  # Ctrl-C: no client left behind
            proc.kill()
            raise
        finally:
            if proc.stdout:
                proc.stdout.close()
            if proc.stdin and not proc.stdin.closed:
                try:
                    proc.stdin.close()
                except OSError:
                    pass
            proc.wait()
            watchdog.cancel()
        if expired.is_set():
            raise CommandTimeout(f"{what} to or from {transport.destination} port {transport.profile.ssh.port} did not finish "
                                 f"within {timeout:g} s and was stopped (the device stopped reading or writing)",
                                 hint=f"check the device; raise timeouts.{'pull' if drain else 'push'} in the profile for slow links")
        errors.seek(0)
        status, _, err = split_status(b"", errors.read())
    began, err = strip_start(err)
    if status is None:
        raise classify(err, transport.where(what), began)
    if status == UNSAFE_STATUS and not began:
        unsafe = unsafe_workdir(err, transport.workdir, f"{transport.destination} port {transport.profile.ssh.port}")
        if unsafe:
            raise unsafe
    transport._workdir_ready = True
    if status != 0 or failure is not None:
        detail = " ".join(err.decode("utf-8", "replace").split())[-300:] or str(failure)
        raise RemoteCommandFailed(f"{what} failed: {detail}")


def _write_tar(folder: Path, pipe: IO[bytes]) -> None:
    with tarfile.open(fileobj=pipe, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for entry in sorted(folder.iterdir()):
            tar.add(entry, arcname=entry.name, filter=_anonymous)


def _anonymous(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """No local user or group names travel to the device."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


class _PullTarget:
    """Where a pull lands: a folder extracted in place, or a file kept aside until complete."""

    def __init__(self, local: Path) -> None:
        self.local = local
        self.partial: str | None = None

    def receive(self, pipe: IO[bytes]) -> None:
        """Read the kind byte, then a tar stream into the folder or bytes into a partial file."""
        kind = pipe.read(1)
        if kind == b"d":
            self.local.mkdir(parents=True, exist_ok=True)
            with tarfile.open(fileobj=pipe, mode="r|") as tar:
                tar.extractall(self.local, filter="data")
        elif kind == b"f":
            self.local.parent.mkdir(parents=True, exist_ok=True)
            fd, self.partial = tempfile.mkstemp(prefix=self.local.name + ".", suffix=PARTIAL, dir=self.local.parent)
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(pipe, out)

    def commit(self) -> None:
        """Give a complete file its real name."""
        if self.partial is not None:
            os.replace(self.partial, self.local)
            self.partial = None

    def discard(self) -> None:
        """Remove a partial file left by a failed pull."""
        if self.partial is not None:
            Path(self.partial).unlink(missing_ok=True)
            self.partial = None
