"""The Plan screen's form as data: field values (text) to a RunPlan, with errors that name the field."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from edge_bench.agent.spec import Protocol
from edge_bench.runner.plan import RunPlan
from edge_bench.errors import ConfigError

DATASETS = ("synthetic", "flickr30k", "mscoco")
POSITIVE = ("min_runs", "max_runs", "max_seconds", "gallery_batch", "n_images", "threads")
"""Fields that must be more than zero (the others may be zero)."""


@dataclass
class PlanForm:
    """What the Plan screen's widgets hold: choices as tuples, numbers as the text typed."""

    device: str = "local"
    also_on: tuple[str, ...] = ()
    """More devices to run the plan on at once (a lab run); the plan's device among them is ignored."""
    models: tuple[str, ...] = ()
    backends: tuple[str, ...] = ()
    precisions: tuple[str, ...] = ()
    dataset: str = "synthetic"
    data_dir: str = ""
    n_images: str = ""
    gallery_batch: str = "8"
    threads: str = ""
    protocol: dict[str, str] = field(default_factory=dict)
    """Protocol field name -> text."""

    @classmethod
    def from_plan(cls, plan: RunPlan) -> "PlanForm":
        """The form showing a plan."""
        return cls(
            device=plan.device, models=tuple(plan.models), backends=tuple(plan.backends),
            precisions=tuple(plan.precisions), dataset=plan.dataset, data_dir=plan.data_dir or "",
            n_images="" if plan.n_images is None else str(plan.n_images), gallery_batch=str(plan.gallery_batch),
            threads="" if plan.threads is None else str(plan.threads),
            protocol={f.name: _text(getattr(plan.protocol, f.name)) for f in fields(Protocol)},
        )

    @property
    def devices(self) -> tuple[str, ...]:
        """Every device the plan runs on, its own first: one is a run, several a lab run."""
        return tuple(dict.fromkeys((self.device, *self.also_on)))

    def to_plan(self, weights: dict[str, str] | None = None) -> RunPlan:
        """The RunPlan the form describes; a bad field is a ConfigError naming it."""
        if not self.models:
            raise ConfigError("no model chosen", hint="tick at least one model")
        if not self.precisions:
            raise ConfigError("no precision chosen", hint="tick at least one precision")
        if self.dataset not in DATASETS:
            raise ConfigError(f"unknown dataset {self.dataset!r}", hint=f"one of {', '.join(DATASETS)}")
        if self.dataset != "synthetic" and not self.data_dir.strip():
            raise ConfigError(f"{self.dataset} needs a data folder",
                              hint="type the folder of its Karpathy JSON and images")
        protocol = Protocol(**{f.name: _number(self.protocol.get(f.name, _text(f.default)), f.name, f.type)
                               for f in fields(Protocol)})
        if protocol.min_runs > protocol.max_runs or protocol.min_seconds > protocol.max_seconds:
            raise ConfigError("the minimum runs or seconds exceed the caps", hint="raise max_runs / max_seconds")
        return RunPlan(
            device=self.device, models=self.models, backends=self.backends, precisions=self.precisions,
            dataset=self.dataset, data_dir=self.data_dir.strip() or None,
            n_images=_optional_int(self.n_images, "n_images"), weights=dict(weights or {}),
            gallery_batch=_number(self.gallery_batch, "gallery_batch", "int"),
            threads=_optional_int(self.threads, "threads"), protocol=protocol,
        )


def _text(value: float | int) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _number(text: str, name: str, kind: str) -> int | float:
    """Parse a positive number (0 allowed for floats and warm-up runs)."""
    try:
        value = int(text) if kind == "int" else float(text)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be {'a whole number' if kind == 'int' else 'a number'}, not {text!r}") from None
    positive = name in POSITIVE
    if value < 0 or (positive and value == 0):
        raise ConfigError(f"{name} must be {'more than zero' if positive else 'zero or more'}, not {text!r}")
    return value


def _optional_int(text: str, name: str) -> int | None:
    return None if not text.strip() else int(_number(text.strip(), name, "int"))
