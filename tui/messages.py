"""Messages screens post up to the app ("attributes down, messages up")."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from edge_bench.runner.plan import RunPlan


@dataclass
class RunRequested(Message):
    """The Plan screen asks for a run of this plan, on its device or, with more devices, as one lab run."""

    plan: RunPlan
    devices: tuple[str, ...] = ()
    """Every device to run on at once (the plan's first); () = the plan's device alone."""


@dataclass
class DeviceChosen(Message):
    """The Devices screen picked the device the next plan runs on."""

    device: str


@dataclass
class CompareRequested(Message):
    """The Results screen asks to compare A and B along an axis (run, backend, device, ...)."""

    axis: str
    a: str
    b: str


@dataclass
class RunsMarked(Message):
    """The runs marked on the Results screen (the Export screen reports on them)."""

    runs: tuple[str, ...]


@dataclass
class StoreChanged(Message):
    """A run wrote to the store; screens showing stored results reload."""

    run_id: str
