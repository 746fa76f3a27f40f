"""Retrieval metrics."""

from edge_bench.metrics.recall import DEFAULT_KS, RecallResult, chance_recall, recall_with_ties, retrieval_recall

__all__ = ["DEFAULT_KS", "RecallResult", "chance_recall", "recall_with_ties", "retrieval_recall"]
