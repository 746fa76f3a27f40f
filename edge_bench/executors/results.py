"""An agent-format result (docs/agent-protocol.md) as a typed TowerResult.

The Python agent writes this format; the native runners' parsers map what the
tools print onto the same keys, so both executors share this one conversion.
"""

from __future__ import annotations

from edge_bench.records.codec import decode
from edge_bench.records.tower import Gallery, LatencyStats, Loop, Memory, RuntimeInfo, Thermal, TowerResult
from edge_bench.records.upgrade import MEMORY_KEYS, THERMAL_KEYS

AGENT_FACTS = ("agent_version", "platform", "threads", "affinity_applied", "sha256_verified", "protocol")


def _split(data: dict | None, known: tuple[str, ...]) -> tuple[dict, dict]:
    data = dict(data or {})
    return {k: data[k] for k in known if k in data}, {k: v for k, v in data.items() if k not in known}


def tower_result(result: dict, flops: float | None, peak_gflops: float | None, executor: str = "agent",
                 native: dict | None = None, ceiling_gflops: float | None = None) -> TowerResult:
    """Statistics, throughput and hardware share of one tower's result."""
    latency = LatencyStats.of(result.get("latency_s") or [], first=result.get("first_inference_s"))
    gallery = result.get("gallery") or {}
    memory, memory_extra = _split(result.get("memory"), MEMORY_KEYS)
    thermal, thermal_extra = _split(result.get("thermal"), THERMAL_KEYS)
    achieved = flops / latency.median / 1e9 if flops and latency.n and latency.median else None
    return TowerResult(
        status="ok",
        latency=latency,
        notes=tuple(latency.stats().warnings()),
        load_s=result.get("load_s"),
        first_inference_s=result.get("first_inference_s"),
        warmup=decode(Loop, result.get("warmup") or {}),
        timed=decode(Loop, result.get("timed") or {}),
        gallery=Gallery(
            batch=gallery.get("batch"), n_items=gallery.get("n_items"), items_per_s=gallery.get("items_per_s"),
            wall_s=gallery.get("wall_s"), load_s=gallery.get("load_s"),
            batch_latency=LatencyStats.of(gallery.get("batch_latency_s") or []),
        ),
        memory=decode(Memory, {**memory, "extra": memory_extra}),
        thermal=decode(Thermal, {**thermal, "extra": thermal_extra}),
        runtime=decode(RuntimeInfo, result.get("runtime") or {}),
        flops=flops,
        achieved_gflops=achieved,
        peak_share=achieved / peak_gflops if achieved and peak_gflops else None,
        ceiling_gflops=ceiling_gflops,
        executor=executor,
        agent={k: result.get(k) for k in AGENT_FACTS},
        native=native or {},
    )


def partial_figures(result: dict | None) -> dict:
    """What a stopped tower had measured when it stopped."""
    return {k: (result or {}).get(k) for k in ("latency_s", "memory", "load_s")} if result else {}
