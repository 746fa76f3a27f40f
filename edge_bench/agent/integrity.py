"""sha256 of artifacts and inputs, checked before anything is measured.

A file hashes as its bytes. A folder (a Core ML .mlpackage) hashes as the
bytes of every file under it, concatenated in sorted path order: the same
definition as `edge_bench.models.weights.file_sha256`, which the converters
use to write manifests (the agent cannot import the host package, so it is
restated here, and a test checks that both agree).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .errors import AgentError

_CHUNK = 1 << 20


def sha256_path(path: Path) -> str:
    """Hex sha256 of a file, or of a folder's files (see the module docstring), read in 1 MiB chunks."""
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in files:
        with open(file, "rb") as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path, expected: str, what: str) -> bool:
    """Check a file against its expected sha256: True when checked, False when none was given.

    A missing file or a mismatch is an AgentError in the "verify" phase naming
    the file and both hashes; nothing is deleted or changed.
    """
    if not path.exists():
        raise AgentError("verify", f"{what} not found: {path}")
    if not expected:
        return False
    actual = sha256_path(path)
    if actual != expected.lower():
        raise AgentError(
            "verify",
            f"{what} {path}: sha256 mismatch (expected {expected[:16]}..., file has {actual[:16]}...); "
            "the file is corrupt or stale: push it again",
        )
    return True
