"""The host's side of a profiling pass: the agent's "profile" block (and its files) as a TowerProfile.

The device writes what it can (an ETDump, LiteRT placement); the host, which
has the ETRecord written at conversion and the devtools, maps it to the
student's modules and blocks.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from .model import OpRow, TowerProfile


def from_agent(block: dict, out_dir: Path, artifact: Path, tower: str, timed_median_s: float | None,
               job_wall_s: float | None = None) -> TowerProfile:
    """A tower's profile from the agent's result block; a file that cannot be read is a failed profile, never an exception."""
    timed_ms = timed_median_s * 1e3 if timed_median_s else None
    status, reason = str(block.get("status") or "failed"), str(block.get("reason") or "")
    base = TowerProfile(source=str(block.get("source") or ""), status=status, reason=reason, runs=int(block.get("runs") or 0),
                        timed_median_ms=timed_ms, wall_s=block.get("wall_s"), job_wall_s=job_wall_s)
    if status != "ok":
        return base
    name = str(block.get("file") or "")
    if base.source in ("etdump", "benchmark_model", "litert-profiler") and (not name or Path(name).name != name or name in (".", "..")):
        return replace(base, status="failed", reason=f"the device named its profile file {name!r}, not a plain file name in its output folder")
    try:
        if base.source == "etdump":
            profile = _etdump(Path(out_dir) / name, Path(artifact), tower, timed_ms)
        elif base.source == "benchmark_model":
            from .benchmark_model import parse, tower_profile

            profile = tower_profile(parse((Path(out_dir) / name).read_text(errors="replace")), tower, timed_ms)
            profile = replace(profile, files={"op_profile": str(Path(out_dir) / name)})
        elif base.source == "litert-profiler":
            from .litert_events import read_events

            profile = read_events(Path(out_dir) / name, block.get("placement") or {}, tower, timed_ms)
            profile = replace(profile, files={"op_events": str(Path(out_dir) / name)})
        elif base.source == "placement":
            profile = placement_profile(block.get("placement") or {}, tower, timed_ms)
            if block.get("op_times"):
                profile = replace(profile, notes=(str(block["op_times"]),))
        else:
            return replace(base, status="failed", reason=f"unknown profile source {base.source!r}")
    except Exception as exc:  # a profile that cannot be read never fails the job
        return replace(base, status="failed", reason=f"cannot read the {base.source} profile: {type(exc).__name__}: {' '.join(str(exc).split())}")
    return replace(profile, wall_s=base.wall_s, job_wall_s=job_wall_s, runs=profile.runs or base.runs)


def _etdump(etdp: Path, pte: Path, tower: str, timed_ms: float | None) -> TowerProfile:
    from .etdump import etrecord_path, read_etdump, with_files

    record = etrecord_path(pte)
    profile = read_etdump(etdp, record if record.exists() else None, tower, timed_ms)
    kept = etdp.with_name(f"{tower}.etdp")
    if etdp != kept:
        shutil.copyfile(etdp, kept)
    return with_files(profile, etdump=kept, **({"etrecord": record} if record.exists() else {}))


def placement_profile(placement: dict, tower: str, timed_ms: float | None) -> TowerProfile:
    """LiteRT placement alone: every node in run order, inside a delegate partition or not; no times."""
    from .blocks import place
    from .tflite_names import module_of

    rows, classes = [], {}
    for entry in placement.get("run_order") or ():
        op, inside, tensor = (list(entry) + [""])[:3]
        path, cls = module_of(str(tensor), str(op))
        classes.setdefault(path, cls)
        rows.append(OpRow(name=str(op), kind="delegate" if inside else "portable", module=path, op_types=(str(op),)))
    rows = place(rows, tower, classes)
    notes = ("per-operator times need a native benchmark_model (--enable_op_profiling); this is placement only",)
    return TowerProfile(source="placement", ops=tuple(rows), timed_median_ms=timed_ms, delegate_calls=placement.get("partitions"),
                        placement={k: v for k, v in placement.items() if k != "run_order"}, notes=notes)
