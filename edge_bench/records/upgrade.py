"""Upgrade stored job records to the current schema, one step per version.

Schema 1 (edge-bench 0.1.0, before the typed record) had no `schema` key:
`reason` and `phase` at the top, recall as `recall` / `recall_label` /
`recall_source` / `reference_recall`, stopped towers as `{"failed": true,
"partial": ...}`, Android facts under a tower's `android`, and extra memory
and thermal figures beside the named ones.
"""

from __future__ import annotations

from typing import Callable

MEMORY_KEYS = ("rss_start_bytes", "rss_before_load_bytes", "rss_after_load_bytes", "peak_rss_bytes", "peak_rss_source",
               "pss_end_bytes")
THERMAL_KEYS = ("before", "after", "governor", "throttled", "freq_khz")


def _split_extra(data: dict | None, known: tuple[str, ...]) -> dict:
    data = dict(data or {})
    extra = {k: data.pop(k) for k in list(data) if k not in known and k != "extra"}
    data["extra"] = {**(data.get("extra") or {}), **extra}
    return data


def tower_from_v1(tower: dict) -> dict:
    """A schema-1 tower (the agent's figures as `tower_summary` shaped them) in schema-2 form."""
    tower = dict(tower)
    if tower.get("failed") or tower.get("cancelled"):
        return {"status": "cancelled" if tower.get("cancelled") else "failed", "partial": tower.get("partial") or {}}
    tower["memory"] = _split_extra(tower.get("memory"), MEMORY_KEYS)
    tower["thermal"] = _split_extra(tower.get("thermal"), THERMAL_KEYS)
    if "android" in tower:
        tower["native"] = tower.pop("android") or {}
        tower["executor"] = "native"
    return tower


def _v1_to_v2(data: dict) -> dict:
    out = {k: data[k] for k in ("job", "status", "fidelity", "artifact", "embeddings", "provenance") if k in data}
    status = data.get("status") or "failed"
    out["status"] = status
    if status != "ok":
        out["failure"] = {"phase": data.get("phase"), "reason": " ".join(str(data.get("reason") or "").split())}
    if data.get("recall") or data.get("reference_recall"):
        out["accuracy"] = {"recall": data.get("recall") or {}, "reference": data.get("reference_recall") or {},
                           "label": data.get("recall_label") or "unknown",
                           "source": data.get("recall_source") or "device embeddings"}
    out["towers"] = {name: tower_from_v1(t) for name, t in (data.get("towers") or {}).items() if isinstance(t, dict)}
    out["schema"] = 2
    return out


SCHEMA_VERSION = 2
"""The record schema this version writes. Bump on any change a reader would notice, with a step in STEPS."""

STEPS: dict[int, Callable[[dict], dict]] = {1: _v1_to_v2}
"""schema N -> the function that makes schema N + 1."""


def upgrade(data: dict) -> dict:
    """A stored record in the current schema (a newer schema is read as far as this version understands it)."""
    if not isinstance(data, dict):
        data = {}
    version = data.get("schema", 1)
    if not isinstance(version, int):
        version = 1
    while version < SCHEMA_VERSION:
        data = STEPS[version](data)
        version = data["schema"]
    return data
