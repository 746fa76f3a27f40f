"""The benchmark runner: plans jobs, drives the agent, computes statistics and recall, stores records."""

from edge_bench.bench.plan import PlannedJob, RunPlan
from edge_bench.bench.runner import RunOutcome, Runner

__all__ = ["PlannedJob", "RunOutcome", "RunPlan", "Runner"]
