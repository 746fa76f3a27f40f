"""Frozen dataclasses to JSON-ready values and back, driven by their type hints.

A record type declares its fields once; `encode` and `decode` follow from the
hints (dataclasses, `X | None`, `tuple[T, ...]`, `dict[str, T]`, plain JSON
values). Keys a newer writer added and this reader does not know are dropped
on decode; missing keys, and nulls where the type admits none, take the
field's default.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from functools import lru_cache
from typing import Any, TypeVar

T = TypeVar("T")


def encode(value: Any) -> Any:
    """A JSON-ready copy: dataclasses become dicts, tuples lists, numpy scalars Python numbers."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, (str, bytes)):
        return value.item()  # numpy scalar
    if hasattr(value, "__fspath__"):
        return str(value)
    return value


@lru_cache(maxsize=None)
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(cls: type[T], data: Any) -> T:
    """Build `cls` from what `encode` wrote (or an older, partial dict)."""
    return _decode(cls, data)


def _admits_none(hint: Any) -> bool:
    return hint is Any or hint is object or (typing.get_origin(hint) in (typing.Union, types.UnionType)
                                            and type(None) in typing.get_args(hint))


def _decode(hint: Any, data: Any) -> Any:
    if hint is Any or hint is object:
        return data
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if data is None:
            return None
        return _decode(args[0], data) if len(args) == 1 else data
    if dataclasses.is_dataclass(hint):
        if isinstance(data, hint):
            return data
        if not isinstance(data, dict):
            data = {}
        hints = _hints(hint)
        kwargs = {}
        for f in dataclasses.fields(hint):
            if f.init and f.name in data:
                value = _decode(hints[f.name], data[f.name])
                if value is not None or _admits_none(hints[f.name]):
                    kwargs[f.name] = value  # else (null or garbage where the type has no None): the default
        return hint(**kwargs)
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(data, (list, tuple)):
            return ()
        inner = args[0] if args else Any
        return tuple(_decode(inner, v) for v in data)
    if origin is dict:
        args = typing.get_args(hint)
        if not isinstance(data, dict):
            return {}
        inner = args[1] if len(args) == 2 else Any
        return {str(k): _decode(inner, v) for k, v in data.items()}
    if origin is list:
        inner = (typing.get_args(hint) or (Any,))[0]
        return [_decode(inner, v) for v in data] if isinstance(data, (list, tuple)) else []
    if hint is float:
        return float(data) if isinstance(data, (int, float)) and not isinstance(data, bool) else None
    if hint is int:
        return int(data) if isinstance(data, (int, float)) and not isinstance(data, bool) and math.isfinite(data) else None
    if hint is str:
        return data if isinstance(data, str) else ("" if data is None else str(data))
    if hint is bool:
        return bool(data)
    return data
