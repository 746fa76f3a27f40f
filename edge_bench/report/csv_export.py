"""CSV: one row per job with flat columns (no raw samples; those are in the JSON report)."""

from __future__ import annotations

import csv
from pathlib import Path

from edge_bench.report.exporters import Exporter, Subject, register_exporter
from edge_bench.report.json_export import strict


@register_exporter
class CsvExporter(Exporter):
    """One .csv file: ok jobs, then failed and skipped ones with their reasons."""

    name = "csv"
    suffix = ".csv"

    def write(self, subject: Subject, out_dir: Path) -> list[Path]:
        from edge_bench.report.schema import COMPARE_CSV_COLUMNS, CSV_COLUMNS, compare_csv_rows, device_csv_rows

        if subject.is_compare:
            columns, rows = COMPARE_CSV_COLUMNS, compare_csv_rows(subject.report)
        else:
            columns, rows = CSV_COLUMNS, device_csv_rows(subject.report)
        path = out_dir / f"{subject.stem}{self.suffix}"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="raise")
            writer.writeheader()
            for row in rows:
                writer.writerow({k: ("" if v is None else v) for k, v in strict(row).items()})
        return [path]
