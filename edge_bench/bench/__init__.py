"""The benchmark runner: plans jobs, drives the agent, computes statistics and recall."""
