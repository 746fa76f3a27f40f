"""Checking a manifest.json read from disk: every field the code reads, of its type.

A manifest is data from a file (edited, truncated, of another version, or
hostile), so it is checked once when read and never trusted by shape: a bad
one is one ConfigError naming the field, never a KeyError or TypeError later.
File names must be plain names inside the set's folder (no '/', no '..').
"""

from __future__ import annotations

import math
import re
from typing import Any

from edge_bench.errors import ConfigError

TOWERS = ("image", "text")
INTERPOLATIONS = ("bicubic", "bilinear")
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")


class ManifestProblem(ConfigError):
    """A manifest that is not what the converters write: the field and what is wrong with it."""


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fail(where: str, field: str, problem: str) -> ManifestProblem:
    return ManifestProblem(f"{where}: {field} {problem}", hint="convert the model again (edge-bench convert)")


def _int(value: Any, where: str, field: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(where, field, f"must be an integer >= {minimum}, not {_show(value)}")
    return value


def _number(value: Any, where: str, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise _fail(where, field, f"must be a finite number >= 0, not {_show(value)}")
    return value


def _str(value: Any, where: str, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise _fail(where, field, f"must be a non-empty string, not {_show(value)}")
    return value


def _dict(value: Any, where: str, field: str) -> dict:
    if not isinstance(value, dict):
        raise _fail(where, field, f"must be an object, not {_show(value)}")
    return value


def _list(value: Any, where: str, field: str) -> list:
    if not isinstance(value, list):
        raise _fail(where, field, f"must be a list, not {_show(value)}")
    return value


def _file_name(value: Any, where: str, field: str) -> str:
    name = _str(value, where, field)
    if "/" in name or "\\" in name or "\0" in name or name in (".", "..") or name != name.strip() or not name.isprintable():
        raise _fail(where, field, f"must be a plain file name inside the set's folder, not {_show(name)}")
    return name


def _preprocess(value: Any, where: str) -> None:
    pp = _dict(value, where, "preprocess")
    _int(pp.get("size"), where, "preprocess.size", minimum=1)
    for key in ("mean", "std"):
        stats = _list(pp.get(key), where, f"preprocess.{key}")
        if len(stats) != 3:
            raise _fail(where, f"preprocess.{key}", f"must hold 3 numbers, not {_show(stats)}")
        for i, v in enumerate(stats):
            _number(v, where, f"preprocess.{key}[{i}]")
    if any(v == 0 for v in pp["std"]):
        raise _fail(where, "preprocess.std", "has a zero")
    if pp.get("interpolation") not in INTERPOLATIONS:
        raise _fail(where, "preprocess.interpolation", f"must be one of {', '.join(INTERPOLATIONS)}, not {_show(pp.get('interpolation'))}")


def _tokenizer(value: Any, where: str) -> None:
    tok = _dict(value, where, "tokenizer")
    kind = _str(tok.get("kind"), where, "tokenizer.kind")
    if kind == "word":
        vocab = _list(tok.get("vocab"), where, "tokenizer.vocab")
        if not all(isinstance(w, str) for w in vocab):
            raise _fail(where, "tokenizer.vocab", "must be a list of strings")
        _int(tok.get("context_length"), where, "tokenizer.context_length", minimum=1)


def _tensors(value: Any, where: str, field: str) -> None:
    for i, spec in enumerate(_list(value, where, field)):
        spec = _dict(spec, where, f"{field}[{i}]")
        if not isinstance(spec.get("name"), str):
            raise _fail(where, f"{field}[{i}].name", f"must be a string, not {_show(spec.get('name'))}")
        _str(spec.get("dtype"), where, f"{field}[{i}].dtype")
        for j, dim in enumerate(_list(spec.get("shape"), where, f"{field}[{i}].shape")):
            _int(dim, where, f"{field}[{i}].shape[{j}]")


def _artifact(value: Any, where: str, field: str) -> int:
    entry = _dict(value, where, field)
    _file_name(entry.get("file"), where, f"{field}.file")
    batch = _int(entry.get("batch"), where, f"{field}.batch", minimum=1)
    sha = entry.get("sha256")
    if not isinstance(sha, str) or not _SHA256.match(sha):
        raise _fail(where, f"{field}.sha256", f"must be 64 lowercase hex digits, not {_show(sha)}")
    if "size_bytes" in entry:
        _int(entry["size_bytes"], where, f"{field}.size_bytes")
    for key in ("inputs", "outputs"):
        if entry.get(key) is not None:
            _tensors(entry[key], where, f"{field}.{key}")
    for key in ("ops", "parity", "delegation"):
        if key in entry:
            _dict(entry[key], where, f"{field}.{key}")
    if "convert_s" in entry:
        _number(entry["convert_s"], where, f"{field}.convert_s")
    return batch


def _tower(value: Any, where: str, name: str) -> None:
    tower = _dict(value, where, f"towers.{name}")
    batches = [_artifact(a, where, f"towers.{name}.artifacts[{i}]")
               for i, a in enumerate(_list(tower.get("artifacts"), where, f"towers.{name}.artifacts"))]
    if len(set(batches)) != len(batches):
        raise _fail(where, f"towers.{name}.artifacts", f"list a batch size twice: {sorted(batches)}")
    if tower.get("flops") is not None:
        _number(tower["flops"], where, f"towers.{name}.flops")
    for key in ("parity", "delegation"):
        if key in tower:
            _dict(tower[key], where, f"towers.{name}.{key}")


def check_manifest(manifest: Any, where: str, schema: int, complete: bool = True) -> dict:
    """`manifest` when it is a valid manifest of `schema`, else a ManifestProblem naming `where` and the field.

    `complete` also requires both towers with at least one artifact each (a
    finished set); a set being converted may lack them.
    """
    data = _dict(manifest, where, "the manifest")
    if isinstance(data.get("schema"), bool) or data.get("schema") != schema:
        raise _fail(where, "schema", f"is {_show(data.get('schema'))}; this edge-bench reads {schema}")
    for key in ("model", "backend", "precision"):
        _str(data.get(key), where, key)
    for key in ("family", "scheme", "key", "created"):
        if key in data and not isinstance(data[key], str):
            raise _fail(where, key, f"must be a string, not {_show(data[key])}")
    _int(data.get("embed_dim"), where, "embed_dim", minimum=1)
    _preprocess(data.get("preprocess"), where)
    _tokenizer(data.get("tokenizer"), where)
    towers = _dict(data.get("towers"), where, "towers")
    for name, tower in towers.items():
        if name not in TOWERS:
            raise _fail(where, "towers", f"has an unknown tower {_show(name)} (towers: {', '.join(TOWERS)})")
        _tower(tower, where, name)
    if complete:
        for name in TOWERS:
            if not (towers.get(name) or {}).get("artifacts"):
                raise _fail(where, f"towers.{name}", "has no artifacts: the set is incomplete")
    for key in ("weights", "samples", "versions"):
        if key in data:
            _dict(data[key], where, key)
    if "runs_on" in data and not (isinstance(data["runs_on"], list) and all(isinstance(v, str) for v in data["runs_on"])):
        raise _fail(where, "runs_on", "must be a list of strings")
    return data
