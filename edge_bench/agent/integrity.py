"""sha256 of artifacts and inputs, checked before anything is measured.

A file hashes as its bytes. A folder (a Core ML .mlpackage) hashes as the
sha256 of, for each file under it in sorted relative-path order, the POSIX
relative path, a NUL, the file's own sha256 hex, and a newline: the converters
import `sha256_path` from here so both sides agree.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .errors import AgentError

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_path(path: Path) -> str:
    """Hex sha256 of a file, or of a folder's files (see the module docstring)."""
    path = Path(path)
    if not path.is_dir():
        return sha256_file(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = file.relative_to(path).as_posix()
        digest.update(f"{rel}\0{sha256_file(file)}\n".encode())
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
