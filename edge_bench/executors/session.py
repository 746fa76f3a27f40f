"""A device session: the agent and content-addressed files pushed once, jobs run, results pulled.

Files go to `<workdir>/files/<sha256[:16]>/<name>`, so a file the device
already has (same content) is never pushed twice, across runs too.
"""

from __future__ import annotations

import json
import secrets
import shlex
import tempfile
import threading
from pathlib import Path

from edge_bench.devices import ConnectionFailed, Transport
from edge_bench.models.weights import file_sha256

AGENT_DIR = "edge_bench_agent"
AGENT_TIMEOUT_S = 3600.0


class DeviceSession:
    """Pushes what jobs need to one device and runs the agent there."""

    def __init__(self, transport: Transport, local_root: Path) -> None:
        self.transport = transport
        self.local_root = local_root
        self._present: set[str] = set()
        self._agent_ready = False

    def _exists(self, remote: str) -> bool:
        result = self.transport.run(["test", "-e", remote], timeout=60)
        return result.returncode == 0

    def ensure_agent(self) -> None:
        """Push the agent unless the device has this version of it."""
        from edge_bench.agent import AGENT_VERSION, agent_files, agent_root

        if self._agent_ready:
            return
        stamp = f"{AGENT_DIR}/VERSION-{AGENT_VERSION}"
        if not self._exists(stamp):
            self.transport.run(["rm", "-rf", AGENT_DIR], timeout=60)
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp) / AGENT_DIR
                for path in agent_files():
                    target = folder / path.relative_to(agent_root())
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(path.read_bytes())
                (folder / f"VERSION-{AGENT_VERSION}").write_text(AGENT_VERSION)
                self.transport.push(folder, AGENT_DIR)
        self._agent_ready = True

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
        self.transport.run(["rm", "-rf", *remotes], timeout=60)

    def run_agent(self, job: dict, local_dir: Path, timeout: float = AGENT_TIMEOUT_S,
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
        self.transport.run(["mkdir", "-p", output], timeout=60)
        self.transport.push(job_file, remote_job)
        python = self.transport.python or "python3"
        argv = [*shlex.split(python), "-m", AGENT_DIR, remote_job]
        tag = secrets.token_hex(8)
        done = threading.Event()
        watcher = threading.Thread(target=self._stop_on_cancel, args=(cancel, done, tag), daemon=True) if cancel else None
        if watcher:
            watcher.start()
        try:
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
        except ConnectionFailed:
            raise
        except Exception:  # a pull after a failed job may find nothing
            return None
        from edge_bench.executors.validate import read_result

        try:  # size cap, one JSON object of the protocol's shape, finite numbers: else InvalidResult, the tower fails
            return read_result(local_dir / "out" / "result.json")
        except OSError:
            return None
