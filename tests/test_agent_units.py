"""The agent's parts in-process: job spec, inputs, integrity, loops, probes, the host helper.

The loop tests drive `run_loop` with a scripted clock (fakes for timing noise
only); everything else reads and writes real files.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edge_bench.agent import AGENT_VERSION, agent_files, agent_root
from edge_bench.agent import memory, protocol, thermal
from edge_bench.agent.errors import AgentError
from edge_bench.agent.inputs import open_inputs
from edge_bench.agent.integrity import sha256_path, verify
from edge_bench.agent.spec import FileRef, GalleryRef, InputsRef, JobSpec, Protocol
from edge_bench.models.weights import file_sha256


def _job(**over) -> dict:
    job = JobSpec(
        tower="image", backend="tflite", artifact=FileRef("a.tflite", "ab" * 32),
        inputs=InputsRef("x.npy", "", kind="uint8_images"), output_dir="runs/j",
        gallery=GalleryRef("g.tflite", "", batch=8), threads=2, affinity=(0,),
    ).to_dict()
    job.update(over)
    return job


# Every field away from its default, so a field that `to_dict` drops or `from_dict` ignores shows.
KNOWN_JOB = JobSpec(
    tower="text", backend="executorch", artifact=FileRef("artifacts/s/text-b1.pte", "ab" * 32),
    inputs=InputsRef("inputs/k.npy", "cd" * 32, kind="int32_tokens", mean=(0.1, 0.2, 0.3), std=(0.4, 0.5, 0.6)),
    output_dir="runs/j7/text", gallery=GalleryRef("artifacts/s/text-b8.pte", "ef" * 32, batch=8), job_id="j7", threads=3,
    affinity=(2, 3), protocol=Protocol(warmup_min_runs=4, warmup_min_seconds=0.5, min_runs=20, min_seconds=2.0,
                                       max_runs=300, max_seconds=12.5),
    encode=False, thermal_zones=("/sys/class/thermal/thermal_zone0/temp",), workdir="/tmp/eb", runtime="litert",
    runtime_options={"compute_units": "CPU_ONLY"},
)
KNOWN_JOB_JSON = {
    "tower": "text", "backend": "executorch",
    "artifact": {"path": "artifacts/s/text-b1.pte", "sha256": "ab" * 32},
    "inputs": {"path": "inputs/k.npy", "sha256": "cd" * 32, "kind": "int32_tokens", "mean": [0.1, 0.2, 0.3], "std": [0.4, 0.5, 0.6]},
    "output_dir": "runs/j7/text",
    "gallery": {"path": "artifacts/s/text-b8.pte", "sha256": "ef" * 32, "batch": 8},
    "job_id": "j7", "threads": 3, "affinity": [2, 3],
    "protocol": {"warmup_min_runs": 4, "warmup_min_seconds": 0.5, "min_runs": 20, "min_seconds": 2.0,
                 "max_runs": 300, "max_seconds": 12.5},
    "encode": False, "thermal_zones": ["/sys/class/thermal/thermal_zone0/temp"], "workdir": "/tmp/eb", "runtime": "litert",
    "runtime_options": {"compute_units": "CPU_ONLY"}, "profile": 0, "schema": 1,
}


def test_job_spec_round_trips_through_json_dicts():
    # host side: the spec the runner builds, as the JSON file it writes (tuples become lists)
    assert json.loads(json.dumps(KNOWN_JOB.to_dict())) == KNOWN_JOB_JSON
    # device side: the JSON the agent reads, parsed back to exactly the spec that was built
    assert JobSpec.from_dict(KNOWN_JOB_JSON) == KNOWN_JOB
    assert JobSpec.from_dict(KNOWN_JOB.to_dict()) == KNOWN_JOB
    # absent optional fields take the documented defaults
    minimal = {"tower": "image", "backend": "tflite", "artifact": {"path": "a.tflite"}, "inputs": {"path": "x.npy", "kind": "uint8_images"},
               "output_dir": "runs/j"}
    assert JobSpec.from_dict(minimal) == JobSpec(tower="image", backend="tflite", artifact=FileRef("a.tflite"),
                                                  inputs=InputsRef("x.npy"), output_dir="runs/j")
    assert JobSpec.from_dict({**KNOWN_JOB_JSON, "artifact": {"path": "a.pte", "sha256": "AB" * 32}}).artifact.sha256 == "ab" * 32
    job = JobSpec.from_dict(_job())
    assert job.gallery.batch == 8 and job.affinity == (0,) and job.protocol == Protocol()
    assert job.resolve("a.tflite").name == "a.tflite"
    assert str(JobSpec.from_dict(_job(workdir="/w")).resolve("x/y")) == "/w/x/y"


@pytest.mark.parametrize(
    "over, field",
    [
        ({"threads": 0}, "threads"),
        ({"tower": "audio"}, "tower"),
        ({"artifact": {"sha256": "x"}}, "artifact.path"),
        ({"inputs": {"path": "x.npy", "kind": "floats"}}, "inputs.kind"),
        ({"inputs": {"path": "x.npy", "kind": "uint8_images", "std": [1, 0, 1]}}, "zero"),
        ({"protocol": {"min_runs": 10, "max_runs": 5}}, "max_runs"),
        ({"protocol": {"min_seconds": 3, "max_seconds": 1}}, "max_seconds"),
        ({"affinity": ["0"]}, "affinity"),
        ({"schema": 2}, "schema"),
    ],
)
def test_bad_job_specs_name_the_field(over, field):
    with pytest.raises(AgentError) as err:
        JobSpec.from_dict(_job(**over))
    assert err.value.phase == "verify" and field in err.value.message


def test_inputs_are_checked_read_in_batches_and_normalised_like_the_host(tmp_path):
    from edge_bench.data.preprocess import normalize

    pixels = np.random.default_rng(0).integers(0, 256, (5, 3, 8, 8), dtype=np.uint8)
    np.save(tmp_path / "x.npy", pixels)
    mean, std = (0.48, 0.45, 0.40), (0.26, 0.26, 0.27)
    inputs = open_inputs(tmp_path / "x.npy", "uint8_images", mean, std)
    assert (inputs.n, inputs.item_shape) == (5, (3, 8, 8))
    np.testing.assert_array_equal(inputs.batch(0, 5), normalize(pixels, mean, std))
    tail = inputs.batch(3, 4)  # two real items, then the last one repeated
    assert tail.shape == (4, 3, 8, 8) and tail.dtype == np.float32
    np.testing.assert_array_equal(tail[:2], normalize(pixels[3:], mean, std))
    np.testing.assert_array_equal(tail[3], tail[1])


def test_truncated_or_mistyped_inputs_fail_verify(tmp_path):
    path = tmp_path / "t.npy"
    np.save(path, np.arange(40, dtype=np.int32).reshape(4, 10))
    data = path.read_bytes()
    path.write_bytes(data[:-7])
    with pytest.raises(AgentError, match="truncated") as err:
        open_inputs(path, "int32_tokens", (0, 0, 0), (1, 1, 1))
    assert err.value.phase == "verify"
    path.write_bytes(data)
    with pytest.raises(AgentError, match="uint8_images needs"):
        open_inputs(path, "uint8_images", (0, 0, 0), (1, 1, 1))
    np.save(path, np.zeros((0, 10), dtype=np.int32))
    with pytest.raises(AgentError, match="no items"):
        open_inputs(path, "int32_tokens", (0, 0, 0), (1, 1, 1))


def test_sha256_of_files_and_folders(tmp_path):
    f = tmp_path / "a.bin"
    f.write_bytes(b"edge")
    assert sha256_path(f) == hashlib.sha256(b"edge").hexdigest()
    pkg = tmp_path / "m.mlpackage"
    (pkg / "Data").mkdir(parents=True)
    (pkg / "Data" / "w.bin").write_bytes(b"1")
    (pkg / "Manifest.json").write_text("{}")
    before = sha256_path(pkg)
    assert before == file_sha256(pkg)  # the definition the converters write into manifests
    assert verify(pkg, before, "artifact") is True
    (pkg / "Data" / "w.bin").write_bytes(b"2")
    with pytest.raises(AgentError, match="sha256 mismatch") as err:
        verify(pkg, before, "artifact")
    assert "m.mlpackage" in err.value.message and pkg.exists()
    with pytest.raises(AgentError, match="not found"):
        verify(tmp_path / "nope", before, "artifact")


@pytest.mark.parametrize("expected", ["", None])
def test_an_empty_sha256_is_refused_never_skipped(tmp_path, expected):
    f = tmp_path / "a.bin"
    f.write_bytes(b"edge")
    with pytest.raises(AgentError, match="no sha256 given") as err:
        verify(f, expected, "artifact")
    assert err.value.phase == "verify" and "a.bin" in err.value.message


def _folder(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def test_a_folder_hash_covers_names_and_sizes_not_just_the_bytes(tmp_path):
    base = sha256_path(_folder(tmp_path / "base", {"a.bin": b"ab", "b.bin": b"cd"}))
    moved = sha256_path(_folder(tmp_path / "moved", {"a.bin": b"a", "b.bin": b"bcd"}))  # same concatenated bytes
    renamed = sha256_path(_folder(tmp_path / "renamed", {"a.bin": b"ab", "c.bin": b"cd"}))  # same order, same bytes
    nested = sha256_path(_folder(tmp_path / "nested", {"a.bin": b"ab", "x/b.bin": b"cd"}))
    assert len({base, moved, renamed, nested}) == 4
    assert sha256_path(_folder(tmp_path / "again", {"b.bin": b"cd", "a.bin": b"ab"})) == base  # order of writing
    assert file_sha256(tmp_path / "moved") == moved  # the host's manifests use the same definition
    with pytest.raises(AgentError, match="sha256 mismatch"):
        verify(tmp_path / "renamed", base, "artifact")


class _Scripted:
    """A model whose invoke advances a fake nanosecond clock by a fixed cost."""

    def __init__(self, cost_ns: int, overhead_ns: int = 0) -> None:
        self.t, self.cost, self.overhead, self.calls, self.fed = 0, cost_ns, overhead_ns, 0, []

    def clock(self) -> int:
        return self.t

    def set_inputs(self, arrays) -> None:
        self.t += self.overhead
        self.fed = arrays

    def invoke(self) -> None:
        self.t += self.cost
        self.calls += 1

    def outputs(self):
        x = self.fed[0]
        return [x.reshape(x.shape[0], -1)[:, :2] * 1.0]


@pytest.mark.parametrize(
    "cost_ms, gates, n, capped",
    [
        (1, (10, 0.5, 1000, 60), 500, None),  # seconds gate dominates
        (100, (10, 0.5, 1000, 60), 10, None),  # runs gate dominates
        (1, (10, 0.5, 50, 60), 50, "max_runs"),
        (100, (1000, 0.0, 5000, 2.0), 20, "max_seconds"),
        (1, (0, 0.0, 10, 1), 0, None),  # warm-up switched off
        (5000, (1, 0.0, 10, 1.0), 1, None),  # one run even when it outlasts max_seconds
    ],
)
def test_loops_stop_when_both_minimums_are_met_or_a_cap_hits(cost_ms, gates, n, capped):
    model = _Scripted(cost_ms * 1_000_000)
    loop = protocol.run_loop(model, [np.zeros(1)], *gates, clock=model.clock)
    assert (loop.n, loop.capped_by, model.calls) == (n, capped, n)
    assert all(s == cost_ms * 1_000_000 for s in loop.samples_ns)


def test_samples_cover_invoke_only_and_the_gates_use_wall_time():
    model = _Scripted(cost_ns=1_000_000, overhead_ns=1_000_000)  # set_inputs costs as much as invoke
    loop = protocol.run_loop(model, [np.zeros(1)], 1, 0.1, 1000, 10, clock=model.clock)
    assert set(loop.samples_ns) == {1_000_000}
    assert loop.n == 50 and loop.wall_ns == 100_000_000


def test_encode_pads_the_last_batch_and_trims_its_outputs():
    model = _Scripted(cost_ns=10)
    rows = np.arange(7 * 2, dtype=np.float32).reshape(7, 2)

    def make_batch(first):
        part = rows[first:first + 3]
        return [np.concatenate([part, np.repeat(part[-1:], 3 - len(part), axis=0)])]

    done = protocol.encode(model, 7, 3, make_batch, clock=model.clock)
    np.testing.assert_array_equal(done.embeddings, rows)
    assert done.batch_ns == [10, 10, 10] and done.embeddings.dtype == np.float32


def test_thermal_reads_millidegrees_and_records_missing_zones(tmp_path):
    zone = tmp_path / "thermal_zone3" / "temp"
    zone.parent.mkdir()
    zone.write_text("45125\n")
    absent: list[str] = []
    temps = thermal.temperatures([str(zone), str(tmp_path / "missing")], absent)
    assert temps == {"zone3": 45.125, str(tmp_path / "missing"): None}
    assert absent == [str(tmp_path / "missing")]
    snap = thermal.snapshot([], absent)
    assert set(snap) == {"temps_c", "freq_khz", "throttled"}


def test_memory_figures_are_bytes_and_peak_is_at_least_current():
    rss = memory.rss_bytes()
    peak, source = memory.peak_rss()
    assert 10 * 2**20 < rss <= peak < 64 * 2**30
    assert source == ("VmHWM" if sys.platform.startswith("linux") else "ru_maxrss")


def test_agent_files_and_version_are_what_the_device_sees(tmp_path):
    files = agent_files()
    names = {p.relative_to(agent_root()).as_posix() for p in files}
    assert {"__init__.py", "__main__.py", "run.py", "runtimes/__init__.py", "runtimes/executorch_rt.py"} <= names
    assert not any("__pycache__" in n for n in names)
    pushed = tmp_path / "edge_bench_agent"
    for path in files:
        target = pushed / path.relative_to(agent_root())
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    code = "import sys, edge_bench_agent; print(edge_bench_agent.AGENT_VERSION, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-S", "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.split() == [AGENT_VERSION, "False"]  # stdlib only, and the same hash
    (pushed / "run.py").write_text((pushed / "run.py").read_text() + "\n# changed\n")
    out = subprocess.run([sys.executable, "-S", "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.split()[0] != AGENT_VERSION
