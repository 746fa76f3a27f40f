"""Which (backend, precision) pairs a `convert` request means, and what it skips.

`all` expands to every registered backend, or every precision a backend
offers. A backend named explicitly must offer the precision asked for (else a
one-line error); with `--backend all` a backend that does not offer it is
skipped with a message. A backend whose extra is not installed is skipped
with a message either way; if nothing is left, that is the error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edge_bench.converters.base import check_precision, get_converter, list_backends
from edge_bench.errors import BackendUnavailable, ConfigError

ALL = "all"


@dataclass
class ConvertPlan:
    """The pairs to convert, in order, and why others were skipped."""

    jobs: list[tuple[str, str]] = field(default_factory=list)
    """(backend, precision) pairs."""
    skipped: list[str] = field(default_factory=list)
    """One message per backend or pair left out."""


def plan_conversions(backend: str, precision: str) -> ConvertPlan:
    """Expand a backend and a precision (each may be 'all') into conversions."""
    names = list_backends() if backend == ALL else [get_converter(backend).name]
    if precision != ALL:
        check_precision(precision)
    plan = ConvertPlan()
    for name in names:
        converter = get_converter(name)
        missing = converter.missing()
        if missing is not None:
            plan.skipped.append(f"{name}: skipped, the Python package {missing!r} is not installed (pip install 'edge-bench[{converter.extra}]')")
            continue
        if precision == ALL:
            plan.jobs.extend((name, p) for p in converter.precisions)
        elif precision in converter.precisions:
            plan.jobs.append((name, precision))
        elif backend == ALL:
            plan.skipped.append(f"{name}: skipped, it does not offer {precision} (offers {', '.join(converter.precisions)})")
        else:
            raise ConfigError(
                f"backend {name!r} does not offer precision {precision!r}",
                hint=f"{name} offers {', '.join(converter.precisions)}",
            )
    if not plan.jobs:
        raise BackendUnavailable("nothing to convert: " + "; ".join(plan.skipped))
    return plan
