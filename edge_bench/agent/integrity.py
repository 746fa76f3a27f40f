"""sha256 of artifacts and inputs, checked before anything is measured.

A file hashes as its bytes. A folder (a Core ML .mlpackage) hashes as a
record per file, in sorted order of the paths relative to the folder: the
path (UTF-8, '/'-separated), a NUL, the size in decimal, a NUL, then the
bytes. So renaming a file, or moving bytes from one file into another,
changes the hash (concatenated bytes alone would not). The host package
hashes through this function too (`edge_bench.models.weights.file_sha256`),
so the manifests the converters write and the agent's checks agree by
construction.

Every artifact and input is verified: an empty expected hash is refused,
never read as "skip the check".
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .errors import AgentError

_CHUNK = 1 << 20


def _update(digest, file: Path) -> None:
    """Feed a file's bytes to `digest` in 1 MiB chunks."""
    with open(file, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)


def sha256_path(path: Path) -> str:
    """Hex sha256 of a file, or of a folder's names, sizes and bytes (see the module docstring)."""
    path = Path(path)
    digest = hashlib.sha256()
    if not path.is_dir():
        _update(digest, path)
        return digest.hexdigest()
    files = sorted((p.relative_to(path).as_posix(), p) for p in path.rglob("*") if p.is_file())
    for name, file in files:
        digest.update(name.encode("utf-8", "surrogateescape") + b"\0" + str(file.stat().st_size).encode() + b"\0")
        _update(digest, file)  # a file that changes size meanwhile gives a hash nothing matches
    return digest.hexdigest()


def verify(path: Path, expected: str, what: str) -> bool:
    """Check a file against its expected sha256; True once checked.

    An empty expected hash, a missing file or a mismatch is an AgentError in
    the "verify" phase naming the file (and both hashes); nothing is deleted
    or changed, and nothing runs unverified.
    """
    if not expected:
        raise AgentError("verify", f"{what} {path}: no sha256 given; the agent runs nothing unverified "
                                   "(the host sends one for every file)")
    if not path.exists():
        raise AgentError("verify", f"{what} not found: {path}")
    actual = sha256_path(path)
    if actual != expected.lower():
        raise AgentError(
            "verify",
            f"{what} {path}: sha256 mismatch (expected {expected[:16]}..., file has {actual[:16]}...); "
            "the file is corrupt or stale: push it again",
        )
    return True
