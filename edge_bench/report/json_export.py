"""JSON: the documented schema (docs/report-schema.md), strict JSON (NaN and infinities become null)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from edge_bench.report.exporters import Exporter, Subject, register_exporter


def strict(value):
    """A copy with NaN and infinities as None, tuples as lists, and anything else JSON cannot hold as text."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


@register_exporter
class JsonExporter(Exporter):
    """One .json file; every figure, raw samples included."""

    name = "json"
    suffix = ".json"

    def write(self, subject: Subject, out_dir: Path) -> list[Path]:
        path = out_dir / f"{subject.stem}{self.suffix}"
        path.write_text(json.dumps(strict(subject.data), indent=1, allow_nan=False) + "\n", encoding="utf-8")
        return [path]
