"""One job, phase by phase: verify, load, first inference, warm-up, timed runs, encode, write.

Each phase checkpoints result.json on entry, so a failure (or a kill) keeps
every measurement taken before it. The batch-1 artifact gives load time,
first inference, warm-up and the raw latency samples; it is released before
the gallery artifact is loaded, which then encodes the whole split.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict

import numpy as np

from . import memory, protocol, thermal
from .errors import AgentError, one_line
from .inputs import InputsFile, open_inputs
from .integrity import verify
from .spec import JobSpec
from .result import ResultFile
from .runtimes import Model, Runtime, open_runtime


class JobRun:
    """Runs one job into one result file."""

    def __init__(self, job: JobSpec, result: ResultFile, clock: protocol.Clock = time.perf_counter_ns) -> None:
        self.job, self.result, self.data, self.clock = job, result, result.data, clock
        self._absent: list[str] = []
        self._thermal_start: dict = {}
        self._started = time.perf_counter()
        self._x: list[np.ndarray] = []

    def run(self) -> None:
        """Every phase in order; raises on the first failure (the caller records it)."""
        job = self.job
        self.data.update(threads=job.threads, affinity=list(job.affinity), protocol=asdict(job.protocol))
        self.data["memory"] = {"units": "bytes", "rss_start_bytes": memory.rss_bytes()}
        self._thermal_start = thermal.snapshot(job.thermal_zones, self._absent)
        self.data["thermal"] = {"before": self._thermal_start["temps_c"], "governor": thermal.governor(),
                                "absent": self._absent}
        self.result.enter("verify")
        inputs = self._verify()
        runtime = self._open_runtime()
        self._latency(runtime, inputs)
        if job.profile:
            self._profile(runtime)
        if job.encode:
            self._gallery(runtime, inputs)

    def close(self) -> None:
        """Temperatures after and peak memory: recorded whether the job succeeded or not."""
        end = thermal.snapshot(self.job.thermal_zones, self._absent)
        start = self._thermal_start
        block = self.data.setdefault("thermal", {"absent": self._absent})
        block["after"] = end["temps_c"]
        block["freq_khz"] = {"before": start.get("freq_khz"), "after": end["freq_khz"]}
        throttled = (start.get("throttled"), end["throttled"])
        block["throttled"] = None if throttled == (None, None) else {"before": throttled[0], "after": throttled[1]}
        mem = self.data.setdefault("memory", {"units": "bytes"})
        mem["peak_rss_bytes"], mem["peak_rss_source"] = memory.peak_rss()
        mem["pss_end_bytes"] = memory.pss_bytes()
        self.data["wall_s"] = time.perf_counter() - self._started

    def _verify(self) -> InputsFile:
        job, start = self.job, time.perf_counter()
        refs = [("artifact", job.artifact), ("inputs", job.inputs)]
        if job.encode and job.gallery is not None:
            refs.append(("gallery artifact", job.gallery))
        inputs = open_inputs(job.resolve(job.inputs.path), job.inputs.kind, job.inputs.mean, job.inputs.std)
        checked = {what.split()[0]: verify(job.resolve(ref.path), ref.sha256, what) for what, ref in refs}
        self.data.update(sha256_verified=all(checked.values()), verified=checked, verify_s=time.perf_counter() - start)
        self.data["inputs"] = {"kind": inputs.kind, "n": inputs.n, "item_shape": list(inputs.item_shape)}
        return inputs

    def _open_runtime(self) -> Runtime:
        self.result.enter("load")
        self.data["affinity_applied"] = _apply_affinity(self.job.affinity)
        runtime = open_runtime(self.job.backend, self.job.threads, self.job.runtime_options, self.job.runtime)
        self.data["runtime"] = runtime.describe()
        return runtime

    def _load(self, runtime: Runtime, path: str, batch: int, inputs: InputsFile, block: dict,
              prefix: str = "") -> tuple[Model, np.dtype]:
        """Load an artifact, timing it into `block["load_s"]` and recording RSS around it."""
        mem = self.data["memory"]
        mem[f"{prefix}rss_before_load_bytes"] = memory.rss_bytes()
        start = self.clock()
        try:
            model = runtime.load(str(self.job.resolve(path)))
        except Exception as exc:
            raise AgentError("load", f"{path}: {one_line(exc)}") from exc
        block["load_s"] = (self.clock() - start) / 1e9
        mem[f"{prefix}rss_after_load_bytes"] = memory.rss_bytes()
        return model, _input_dtype(model, batch, inputs, path)

    def _first_and_warmup(self, model: Model, x: list[np.ndarray], block: dict) -> None:
        p = self.job.protocol
        self.result.enter("first_inference")
        block["first_inference_s"] = protocol.time_once(model, x, self.clock) / 1e9
        self.result.enter("warmup")
        warm = protocol.run_loop(model, x, p.warmup_min_runs, p.warmup_min_seconds, p.max_runs, p.max_seconds,
                                 self.clock)
        block["warmup"] = warm.summary()

    def _latency(self, runtime: Runtime, inputs: InputsFile) -> None:
        p = self.job.protocol
        model, dtype = self._load(runtime, self.job.artifact.path, 1, inputs, self.data)
        x = [inputs.batch(0, 1).astype(dtype, copy=False)]
        self._first_and_warmup(model, x, self.data)
        self.result.enter("timed")
        loop, complete = protocol.LoopResult(), False
        try:
            protocol.run_loop(model, x, p.min_runs, p.min_seconds, p.max_runs, p.max_seconds, self.clock, into=loop)
            complete = True
        finally:  # an interrupted loop keeps the samples it took
            self.data["timed"] = {**loop.summary(), "complete": complete}
            self.data["latency_s"] = [s / 1e9 for s in loop.samples_ns]
        self.data["memory"]["peak_rss_after_timed_bytes"] = memory.peak_rss()[0]
        self._x = x
        del model

    def _profile(self, runtime: Runtime) -> None:
        """The profiling pass: after the timed loops, its own load and runs, never part of the reported latency.

        A runtime that cannot profile, or a pass that fails, is recorded in the result's "profile" block; the job goes on.
        """
        self.result.enter("profile")
        start = time.perf_counter()
        out = self.result.dir
        try:
            block = runtime.profile(str(self.job.resolve(self.job.artifact.path)), self._x, self.job.profile, out)
        except Exception as exc:  # a profiler fault never costs the job its measurements
            block = {"status": "failed", "reason": one_line(exc)}
        self.data["profile"] = {**block, "runs_requested": self.job.profile, "wall_s": time.perf_counter() - start}

    def _gallery(self, runtime: Runtime, inputs: InputsFile) -> None:
        ref = self.job.gallery or self.job.artifact
        batch = self.job.gallery.batch if self.job.gallery else 1
        self.result.enter("load")
        block = self.data["gallery"] = {"batch": batch, "n_items": inputs.n}
        model, dtype = self._load(runtime, ref.path, batch, inputs, block, prefix="gallery_")
        x = [inputs.batch(0, batch).astype(dtype, copy=False)]
        self._first_and_warmup(model, x, block)
        self.result.enter("encode")
        done = protocol.encode(model, inputs.n, batch, lambda i: [inputs.batch(i, batch).astype(dtype, copy=False)],
                               self.clock)
        busy = sum(done.batch_ns) / 1e9
        block.update(n_batches=len(done.batch_ns), batch_latency_s=[s / 1e9 for s in done.batch_ns],
                     wall_s=done.wall_ns / 1e9, padded_items=len(done.batch_ns) * batch - inputs.n,
                     items_per_s=inputs.n / busy if busy > 0 else None)
        self.result.enter("write")
        self.data["embeddings"] = self.result.save_embeddings(done.embeddings)


def _apply_affinity(cpus: tuple[int, ...]) -> list[int] | None:
    """Pin the process to `cpus` (before the runtime starts its threads); the CPUs in effect, or None if unsupported."""
    if not hasattr(os, "sched_setaffinity"):
        if cpus:
            raise AgentError("load", "CPU affinity is not supported on this platform: set affinity = [] in the profile")
        return None
    if cpus:
        try:
            os.sched_setaffinity(0, set(cpus))
        except (OSError, ValueError) as exc:
            raise AgentError("load", f"cannot pin to CPUs {list(cpus)}: {one_line(exc)}") from None
    return sorted(os.sched_getaffinity(0))


def _input_dtype(model: Model, batch: int, inputs: InputsFile, path: str) -> np.dtype:
    """The artifact's input dtype, after checking it takes one input of the job's shape and kind."""
    if len(model.input_specs) != 1:
        raise AgentError("load", f"{path}: the artifact takes {len(model.input_specs)} inputs; the agent feeds one")
    shape, name = model.input_specs[0]
    want = (batch, *inputs.item_shape)
    given = np.dtype(np.float32 if inputs.kind == "uint8_images" else np.int32)
    try:
        dtype = np.dtype(name)
    except TypeError:
        dtype = given
    if tuple(shape) != want or dtype.kind != given.kind:
        raise AgentError("load", f"{path}: the artifact takes {list(shape)} {dtype.name}, the job gives "
                                 f"{list(want)} {given.name} ({inputs.kind}, batch {batch})")
    return dtype
