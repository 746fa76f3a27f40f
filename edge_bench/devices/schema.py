"""Strict TOML-to-dataclass building: every key known, every value of its type.

A misspelt key is a ConfigError naming the key, the file and the closest valid
key, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import typing
from typing import Any, TypeVar

from edge_bench.errors import ConfigError

T = TypeVar("T")


def closest(word: str, choices: typing.Iterable[str]) -> str | None:
    """The choice most like `word` (difflib), or None when nothing is close."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return matches[0] if matches else None


def unknown_key_error(key: str, where: str, valid: typing.Iterable[str], source: str) -> ConfigError:
    """The error for a key that is not in the schema, with the closest valid key."""
    valid = sorted(valid)
    guess = closest(key, valid)
    hint = f"did you mean {guess!r}?" if guess else f"valid keys: {', '.join(valid)}"
    return ConfigError(f"unknown key {where}{key!r} in {source}", hint=hint)


def build(cls: type[T], data: dict[str, Any], source: str, where: str = "", skip: frozenset[str] = frozenset()) -> T:
    """A `cls` dataclass from a TOML table; unknown keys and wrong types are ConfigErrors.

    `where` prefixes key names in messages (e.g. "ssh."); `skip` names fields that
    are not TOML keys.
    """
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in skip}
    for key in data:
        if key not in fields:
            raise unknown_key_error(key, where, fields, source)
    values = {key: _convert(value, hints[key], f"{where}{key}", source) for key, value in data.items()}
    missing = [name for name, f in fields.items() if name not in values and _required(f)]
    if missing:
        raise ConfigError(f"missing key {where}{missing[0]!r} in {source}")
    return cls(**values)


def _required(f: dataclasses.Field) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _convert(value: Any, kind: Any, key: str, source: str) -> Any:
    """`value` checked against the annotation `kind` (scalars, lists, dicts, dataclasses)."""
    if dataclasses.is_dataclass(kind):
        if not isinstance(value, dict):
            raise _type_error(key, "a table", value, source)
        return build(kind, value, source, where=f"{key}.")
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is list:
        if not isinstance(value, list):
            raise _type_error(key, "a list", value, source)
        return [_convert(item, args[0], f"{key}[{i}]", source) for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise _type_error(key, "a table", value, source)
        return {k: _convert(v, args[1], f"{key}.{k if k.isprintable() else repr(k)}", source) for k, v in value.items()}
    return _scalar(value, kind, key, source)


def _scalar(value: Any, kind: Any, key: str, source: str) -> Any:
    if kind is Any:
        return value
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is float and isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{key} must be a finite number, not {value!r}, in {source}")
    if kind is int and isinstance(value, bool):
        raise _type_error(key, "an integer", value, source)
    if not isinstance(value, kind):
        raise _type_error(key, _NAMES.get(kind, kind.__name__), value, source)
    return value


_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def _type_error(key: str, expected: str, value: Any, source: str) -> ConfigError:
    return ConfigError(f"{key} must be {expected}, not {value!r} ({type(value).__name__}), in {source}")
