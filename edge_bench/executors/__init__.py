"""Executors: "run one tower of one job on this device" (the Python agent, native runners, scripted)."""
