"""result.json: started at once, checkpointed after every phase, finished ok or failed.

The file is always replaced atomically (write a temporary file, then
rename), so a reader never sees half a JSON. While the job runs its status
is "running" with the phase reached, so a job killed from outside still
leaves every measurement taken before its last checkpoint.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np

from . import AGENT_VERSION
from .errors import AgentError

SCHEMA = 1
EMBEDDINGS_FILE = "embeddings.npy"


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def platform_info() -> dict:
    """Where the agent ran: machine, system, release, Python and numpy versions."""
    return {
        "machine": platform.machine(), "system": platform.system(), "release": platform.release(),
        "python": platform.python_version(), "implementation": sys.implementation.name, "numpy": np.__version__,
    }


class ResultFile:
    """The result record of one job and the folder it is written to."""

    def __init__(self, output_dir: Path, job_id: str = "") -> None:
        self.dir = Path(output_dir)
        self.path = self.dir / "result.json"
        self.data: dict = {
            "schema": SCHEMA, "job_id": job_id, "status": "running", "error": None, "phase": "verify",
            "agent_version": AGENT_VERSION, "started": _now(), "finished": None,
            "platform": platform_info(), "pid": os.getpid(),
        }

    @property
    def phase(self) -> str:
        return self.data["phase"]

    def enter(self, phase: str) -> None:
        """Record reaching a phase and checkpoint what is measured so far."""
        self.data["phase"] = phase
        self.write()

    def write(self) -> None:
        """Atomically (re)write result.json."""
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.data, indent=1, allow_nan=True))
        os.replace(tmp, self.path)

    def save_embeddings(self, embeddings: np.ndarray) -> dict:
        """Write embeddings.npy (float32) atomically; returns the result's embeddings block."""
        self.dir.mkdir(parents=True, exist_ok=True)
        final = self.dir / EMBEDDINGS_FILE
        tmp = self.dir / f".{EMBEDDINGS_FILE}.{os.getpid()}.tmp.npy"
        np.save(tmp, np.ascontiguousarray(embeddings, dtype=np.float32))
        os.replace(tmp, final)
        return {"file": EMBEDDINGS_FILE, "shape": list(embeddings.shape), "dtype": "float32"}

    def finish(self, error: BaseException | None = None) -> None:
        """Mark the job ok (phase 'done') or failed (phase where it failed, one-line error), and write."""
        from .errors import one_line

        self.data["finished"] = _now()
        if error is None:
            self.data.update(status="ok", error=None, phase="done")
        else:
            phase = error.phase if isinstance(error, AgentError) else self.data["phase"]
            self.data.update(status="failed", error=one_line(error), phase=phase)
        self.write()
