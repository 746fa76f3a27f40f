"""A device session: the agent and content-addressed files pushed once, jobs run, results pulled.

Files go to `<workdir>/files/<sha256[:16]>/<name>`, so a file the device
already has (same content) is never pushed twice, across runs too.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import tempfile
import threading
from pathlib import Path

from edge_bench.devices import CommandTimeout, ConnectionFailed, Transport
from edge_bench.devices.device_python import python_argv
from edge_bench.models.weights import file_sha256

AGENT_DIR = "edge_bench_agent"
AGENT_HOME = "agent"
"""The device folder holding only the agent package and its stamp: the one folder added to sys.path."""
AGENT_TIMEOUT_S = 3600.0
STALE_STATUS = 87
STALE_MARK = "edge-bench-agent-stale"

BOOTSTRAP = """\
import hashlib, os, runpy, sys
sys.dont_write_bytecode = True
cwd = os.path.realpath(os.getcwd())
sys.path[:] = [p for p in sys.path if p and os.path.realpath(p) != cwd]
home = os.path.join(cwd, %(home)r)
package, want, args = sys.argv[1], sys.argv[2], sys.argv[3:]
root = os.path.join(home, package)
files = []
for top, dirs, names in os.walk(root):
    files += [os.path.relpath(os.path.join(top, n), root).split(os.sep) for n in names]
digest = hashlib.sha256()
for parts in sorted(files):
    digest.update("/".join(parts).encode() + b"\\0")
    with open(os.path.join(root, *parts), "rb") as handle:
        digest.update(handle.read() + b"\\0")
stamped = os.path.isfile(os.path.join(home, "VERSION-" + want))
if not (stamped and digest.hexdigest()[:16] == want and all(p[-1].endswith(".py") for p in files)):
    sys.stderr.write(%(mark)r + ": stamp %%s, content %%s\\n" %% ("found" if stamped else "missing", digest.hexdigest()[:16]))
    sys.exit(%(status)d)
if args == ["--check"]:
    sys.exit(0)
sys.path.append(home)
sys.argv = [package] + args
runpy.run_module(package, run_name="__main__", alter_sys=True)
""" % {"home": AGENT_HOME, "mark": STALE_MARK, "status": STALE_STATUS}
"""Run with `python -c` in the workdir: the working directory is taken off sys.path (a planted glob.py there is
never imported), the agent's files are hashed and its stamp checked (a stale, partial or altered agent exits
STALE_STATUS instead of running), then the package runs from `<workdir>/agent` alone."""


class DeviceSession:
    """Pushes what jobs need to one device and runs the agent there."""

    def __init__(self, transport: Transport, local_root: Path) -> None:
        self.transport = transport
        self.local_root = local_root
        self._present: set[str] = set()
        self._agent_ready = False
        self.pushes = 0
        self._agent: tuple[str, dict[str, bytes]] | None = None
        """How many times this session pushed the agent."""

    @property
    def _limits(self):
        return self.transport.profile.timeouts

    def _exists(self, remote: str) -> bool:
        result = self.transport.run(["test", "-e", remote], timeout=self._limits.command)
        return result.returncode == 0

    @property
    def agent(self) -> tuple[str, dict[str, bytes]]:
        """(version, relative path -> bytes): the agent as this session pushes and checks it, read once, so
        the version and the pushed bytes always agree (AGENT_VERSION's hash, over these bytes)."""
        if self._agent is None:
            from edge_bench.agent import agent_files, agent_root

            files = {path.relative_to(agent_root()).as_posix(): path.read_bytes() for path in agent_files()}
            digest = hashlib.sha256()
            for name in sorted(files, key=lambda n: n.split("/")):
                digest.update(name.encode() + b"\0")
                digest.update(files[name] + b"\0")
            self._agent = (digest.hexdigest()[:16], files)
        return self._agent

    def agent_argv(self, *args: str) -> list[str]:
        """The command line running the bootstrap with the device's Python (split with shlex, like the fingerprint)."""
        return [*python_argv(self.transport.python or "python3"), "-c", BOOTSTRAP, AGENT_DIR, self.agent[0], *args]

    def agent_current(self) -> bool:
        """True when the device holds exactly this agent (stamp present, every file's content as here)."""
        result = self.transport.run(self.agent_argv("--check"), timeout=self._limits.command)
        if result.returncode not in (0, STALE_STATUS):
            result.check(f"checking the agent with {self.transport.python or 'python3'}")
        return result.returncode == 0

    def ensure_agent(self) -> None:
        """Take the device lock, then push the agent unless the device has exactly this version of it."""
        if self._agent_ready:
            return
        self.transport.lock()
        if not self.agent_current():
            self.push_agent()
        self._agent_ready = True

    def push_agent(self) -> None:
        """Push the agent to a temporary folder, rename it into place, write the stamp last."""
        version, files = self.agent
        partial = f"{AGENT_HOME}.partial-{secrets.token_hex(4)}"
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / AGENT_DIR
            for name, data in files.items():
                target = folder / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            self.transport.push(folder, f"{partial}/{AGENT_DIR}")
        swap = ('rm -rf "$1.old" && if [ -e "$1" ]; then mv "$1" "$1.old"; fi && mv "$2" "$1" && rm -rf "$1.old" '
                '&& printf %s "$3" > "$1/VERSION-$3" && rm -rf "$1".partial-*')  # and what cut pushes left
        self.transport.run(["sh", "-c", swap, "sh", AGENT_HOME, partial, version], timeout=self._limits.command).check(
            "putting the pushed agent in place")
        self.pushes += 1

    def ensure_file(self, local: Path, sha256: str | None = None) -> tuple[str, str]:
        """Push a file or folder once per content; returns (remote path, sha256)."""
        sha = sha256 or file_sha256(local)
        remote = f"files/{sha[:16]}/{local.name}"
        if remote not in self._present:
            if not self._exists(remote):
                self.transport.push(local, remote)
            self._present.add(remote)
        return remote, sha

    def forget(self, remotes: list[str]) -> None:
        """Remove pushed files (e.g. after a sha256 mismatch), so the next job pushes them again."""
        for remote in remotes:
            self._present.discard(remote)
        self.transport.run(["rm", "-rf", *remotes], timeout=self._limits.command)

    def run_agent(self, job: dict, local_dir: Path, timeout: float | None = None,
                  cancel: threading.Event | None = None) -> tuple[dict | None, Path, str]:
        """Run one agent job; returns (result or None, local copy of its output folder, agent stderr tail).

        Setting `cancel` while the agent runs sends it SIGTERM: it stops the phase
        it is in and writes what it measured (status failed), which is returned.
        """
        output = job["output_dir"]
        local_dir.mkdir(parents=True, exist_ok=True)
        job_file = local_dir / "job.json"
        job_file.write_text(json.dumps(job, indent=2))
        remote_job = f"{output}.job.json"
        self.transport.run(["mkdir", "-p", output], timeout=self._limits.command)
        self.transport.push(job_file, remote_job)
        timeout = timeout or self._limits.job
        argv = self.agent_argv(remote_job)
        tag = secrets.token_hex(8)
        done = threading.Event()
        watcher = threading.Thread(target=self._stop_on_cancel, args=(cancel, done, tag), daemon=True) if cancel else None
        if watcher:
            watcher.start()
        try:
            completed = self.transport.run(argv, timeout=timeout, tag=tag)
            if completed.returncode == STALE_STATUS and STALE_MARK.encode() in completed.stderr:
                self.push_agent()  # changed on the device since the last job: the same job with a fresh copy
                completed = self.transport.run(argv, timeout=timeout, tag=tag)
            stderr_tail = completed.stderr.decode(errors="replace").strip().splitlines()[-3:]
        except ConnectionFailed:
            if not (cancel and cancel.is_set()):
                raise
            stderr_tail = ["stopped on request"]  # the signal also ended the remote shell
        finally:
            done.set()
        result = self._pull_result(output, local_dir)
        return result, local_dir, " ".join(stderr_tail)

    def _stop_on_cancel(self, cancel: threading.Event, done: threading.Event, tag: str) -> None:
        while not done.is_set():
            if cancel.wait(0.2):
                if not done.is_set():
                    try:
                        self.transport.stop_tagged(tag, "TERM")
                    except ConnectionFailed:
                        pass
                return

    def _pull_result(self, output: str, local_dir: Path) -> dict | None:
        try:
            self.transport.pull(output, local_dir / "out")
        except (ConnectionFailed, CommandTimeout):  # the device went away or hung: the job says so
            raise
        except Exception:  # a pull after a failed job may find nothing
            return None
        from edge_bench.executors.validate import read_result

        try:  # size cap, one JSON object of the protocol's shape, finite numbers: else InvalidResult, the tower fails
            return read_result(local_dir / "out" / "result.json")
        except OSError:
            return None
