"""The benchmark runner: plans jobs, drives the agent, computes statistics and recall, stores records."""

from edge_bench.runner.plan import PlannedJob, RunPlan
from edge_bench.runner.loop import RunOutcome, Runner

__all__ = ["PlannedJob", "RunOutcome", "RunPlan", "Runner"]
