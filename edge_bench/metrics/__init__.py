"""Retrieval metrics."""

from edge_bench.metrics.recall import DEFAULT_KS, chance_recall, retrieval_recall

__all__ = ["DEFAULT_KS", "chance_recall", "retrieval_recall"]
