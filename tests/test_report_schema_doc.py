"""docs/report-schema.md follows the record's types: every tower figure and CSV column is documented."""

from __future__ import annotations

import re
from pathlib import Path

from edge_bench.report.model import FIGURE_NAMES
from edge_bench.report.schema import SCHEMA_VERSION

DOC = (Path(__file__).resolve().parents[1] / "docs" / "report-schema.md").read_text()


def test_every_tower_figure_is_documented():
    documented = set(re.findall(r"`([a-z0-9_]+)`", DOC))
    missing = [name for name in FIGURE_NAMES if name not in documented]
    assert not missing, f"tower figures missing from docs/report-schema.md: {missing}"


def test_the_documented_schema_version_is_the_written_one():
    assert f"| `schema_version` | {SCHEMA_VERSION} " in DOC
