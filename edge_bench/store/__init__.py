"""The SQLite results store: runs, jobs, records with raw samples and provenance."""

from edge_bench.store.db import JobRow, RunRow, Store

__all__ = ["JobRow", "RunRow", "Store"]
