"""The native runners' command lines name the inputs the artifact itself declares (issue #12).

For converted `.tflite` and `.pte` artifacts of the built-in zoo, the Android path
(`run_android_job` with a stand-in phone that records what it is asked to run) builds
the exact `benchmark_model` / `executor_runner` command lines; their input names,
shapes and input files are checked against what the runtimes themselves report:
ai_edge_litert's Interpreter for the `.tflite` (`get_input_details`), the ExecuTorch
program's method metadata for the `.pte` (`executorch.runtime`, `MethodMeta`). The
artifact is staged alone, without the manifest beside it, as the bench path stages it.

How the tools read their flags (LiteRT tflite/tools/benchmark/benchmark_tflite_model.cc):
`--input_layer` is split at ',' and each name is compared, as is, with the name of the
graph input tensor at the same position; `--input_layer_shape` items are split at ':'
and dims at ','; `--input_layer_value_files` items `name:path` are split at the one
unescaped ':' and then '::' is read as ':' (in that flag only), and matched by name to
`--input_layer`; a value file must hold exactly the tensor's bytes. `executor_runner
--inputs` takes raw files in input order, each the size of that input's tensor.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from edge_bench.android import job as android_job
from edge_bench.android.scripts import RunCapture
from edge_bench.android.settings import AndroidSettings, RunnerLocation
from edge_bench.android.tensors import artifact_io, artifact_specs
from edge_bench.converters import convert, get_converter
from edge_bench.errors import ConversionError, JobError
from edge_bench.models import create_model

FIXTURES = Path(__file__).parent / "fixtures" / "android"
WORKDIR = "/data/local/tmp/edge-bench"
MODEL = "edgeclip-s-scratch"
BACKENDS = ("tflite", "executorch")
OUTPUT = {"tflite": "benchmark_model_litert_ok.txt", "executorch": "executor_runner_posix_iterations.txt"}
"""A successful run of each tool, so the job goes on to the gallery artifact."""
GALLERY = 4
"""The gallery batch of these sets: the one the run tests use, so the session converts each set once."""
RUNNER = {"tflite": "/data/local/tmp/benchmark_model", "executorch": "/data/local/tmp/xnn_executor_runner"}
ET_DTYPES = {6: "float32", 3: "int32", 4: "int64", 5: "float16", 1: "int8", 0: "uint8"}
"""ExecuTorch ScalarType codes."""


# --- what the runtimes themselves report -------------------------------------------------------


def litert_inputs(path: Path) -> list[dict]:
    """The graph's inputs as ai_edge_litert's Interpreter reports them (name, shape, dtype, bytes)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    return [{"name": d["name"], "shape": [int(s) for s in d["shape"]], "dtype": np.dtype(d["dtype"]).name,
             "nbytes": int(np.prod(d["shape"])) * np.dtype(d["dtype"]).itemsize}
            for d in interpreter.get_input_details()]


def litert_outputs(path: Path) -> list[dict]:
    from ai_edge_litert.interpreter import Interpreter

    return [{"name": d["name"], "shape": [int(s) for s in d["shape"]], "dtype": np.dtype(d["dtype"]).name}
            for d in Interpreter(model_path=str(path)).get_output_details()]


def program_tensors(path: Path, kind: str = "input") -> list[dict]:
    """The forward method's inputs (or outputs) as the ExecuTorch program's MethodMeta reports them."""
    from executorch.runtime import Runtime

    meta = Runtime.get().load_program(str(path)).metadata("forward")
    count = meta.num_inputs() if kind == "input" else meta.num_outputs()
    infos = [meta.input_tensor_meta(i) if kind == "input" else meta.output_tensor_meta(i) for i in range(count)]
    return [{"index": i, "shape": [int(s) for s in info.sizes()], "dtype": ET_DTYPES[int(info.dtype())],
             "nbytes": int(info.nbytes())} for i, info in enumerate(infos)]


# --- a stand-in phone: records pushes and command lines, answers with a real tool output ----------


class FakeTransport:
    def check(self) -> None:
        """A phone is attached."""


class FakeDevice:
    """The AndroidDevice interface the job uses; pushed files are kept, runs are recorded."""

    output = ""
    """The tool output every run prints (set per test)."""
    last: "FakeDevice | None" = None
    """The device the last job made."""

    def __init__(self, transport, settings: AndroidSettings) -> None:
        self.transport, self.settings, self.workdir = transport, settings, settings.workdir
        self.files: dict[str, Path] = {}
        self.runs: list[list[str]] = []
        self.taskset = None
        FakeDevice.last = self

    def fingerprint(self) -> dict:
        return {"model": "Stand-in", "abilist": ["arm64-v8a"], "android_version": "14", "sdk": "34"}

    def install_runner(self, backend, location, abilist) -> str:
        return location.device_path

    def state(self) -> dict:
        return {"thermal": {}, "governor": None, "cpufreq": {}, "battery": {}}

    def mkdir(self, path: str) -> None:
        pass

    def push_file(self, local: Path, remote: str) -> None:
        self.files[remote] = Path(local)

    def sha256(self, remote: str) -> str | None:
        local = self.files.get(remote)
        return hashlib.sha256(local.read_bytes()).hexdigest() if local else None

    def run(self, argv, out_base, logcat_tag="", timeout=None) -> RunCapture:
        self.runs.append(list(argv))
        return RunCapture(exit_code=0, pid=1, streams={"stdout": self.output, "stderr": ""})


def run_on_stand_in(monkeypatch, tmp_path: Path, model, artifact_set, tower: str, with_specs: bool = False,
                    ) -> tuple[dict, FakeDevice, dict[str, Path]]:
    """run_android_job for one tower of a set, the b1 and gallery-batch artifacts staged alone (no manifest beside)."""
    backend = artifact_set.backend
    root = tmp_path / "android"
    staged: dict[str, Path] = {}
    refs = {}
    for role, batch in (("artifact", 1), ("gallery", GALLERY)):
        source = artifact_set.artifact(tower, batch)
        target = root / "artifacts" / f"{tower}-{batch}" / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        staged[role] = target
        refs[role] = {"path": str(target.relative_to(root)), "sha256": hashlib.sha256(target.read_bytes()).hexdigest()}
        if with_specs:
            entry = next(a for a in artifact_set.manifest["towers"][tower]["artifacts"] if a["batch"] == batch)
            refs[role].update(inputs=entry["inputs"], outputs=entry["outputs"])
    assert not (staged["artifact"].parent / "manifest.json").exists()
    size, length = model.preprocess.size, int(model.tokenizer.config()["context_length"])
    rng = np.random.default_rng(0)
    items = (rng.integers(0, 256, (2 * GALLERY, 3, size, size), dtype=np.uint8) if tower == "image"
             else rng.integers(0, 100, (2 * GALLERY, length)).astype(np.int32))
    (root / "inputs").mkdir(parents=True, exist_ok=True)
    np.save(root / "inputs" / f"{tower}.npy", items)
    job = {"schema": 1, "job_id": "j1", "tower": tower, "backend": backend,
           "artifact": refs["artifact"], "gallery": {**refs["gallery"], "batch": GALLERY},
           "inputs": {"path": f"inputs/{tower}.npy", "kind": "uint8_images" if tower == "image" else "int32_tokens",
                      "mean": list(model.preprocess.mean), "std": list(model.preprocess.std)},
           "threads": 2, "affinity": [], "protocol": {"warmup_min_runs": 2, "min_runs": 5},
           "output_dir": f"runs/j1/{tower}"}
    settings = AndroidSettings(workdir=WORKDIR, runners={backend: RunnerLocation(device_path=RUNNER[backend])},
                               sample_interval_s=0.0, fidelity_samples=0)
    monkeypatch.setattr(android_job, "AndroidDevice", FakeDevice)
    monkeypatch.setattr(FakeDevice, "output", (FIXTURES / OUTPUT[backend]).read_text())
    result = android_job.run_android_job(FakeTransport(), settings, job, root)
    return result, FakeDevice.last, staged


def flags(argv: list[str]) -> dict[str, str]:
    return dict(arg[2:].split("=", 1) for arg in argv[1:] if arg.startswith("--") and "=" in arg)


def split_value_file(item: str) -> tuple[str, str]:
    """benchmark_model's SplitInputLayerNameAndValueFile: the one unescaped ':', then '::' -> ':'."""
    delim, i = -1, 0
    while i < len(item) - 1:
        if item[i] == ":":
            if item[i + 1] == ":":
                i += 1
            else:
                assert delim == -1, f"{item} has more than one delimiter"
                delim = i
        i += 1
    assert delim != -1, f"{item} has no delimiter"
    return item[:delim].replace("::", ":"), item[delim + 1:].replace("::", ":")


def check_benchmark_model(argv: list[str], artifact: Path, device: FakeDevice) -> None:
    """benchmark_model's flags name the graph inputs the Interpreter reports, in order, with their shapes,
    and each value file holds exactly that tensor's bytes."""
    want = litert_inputs(artifact)
    f = flags(argv)
    assert argv[0] == RUNNER["tflite"] and f["graph"] == f"{WORKDIR}/artifacts/{artifact.parent.name}/{artifact.name}"
    assert f["input_layer"].split(",") == [w["name"] for w in want]
    assert [[int(d) for d in item.split(",")] for item in f["input_layer_shape"].split(":")] == [w["shape"] for w in want]
    files = dict(split_value_file(item) for item in f["input_layer_value_files"].split(","))
    assert list(files) == [w["name"] for w in want]
    for w in want:
        assert device.files[files[w["name"]]].stat().st_size == w["nbytes"]


def check_executor_runner(argv: list[str], artifact: Path, device: FakeDevice) -> None:
    """executor_runner gets one raw file per method input, in order, each of that input's bytes."""
    want = program_tensors(artifact)
    f = flags(argv)
    assert argv[0] == RUNNER["executorch"] and f["model_path"] == f"{WORKDIR}/artifacts/{artifact.parent.name}/{artifact.name}"
    paths = f["inputs"].split(",")
    assert len(paths) == len(want)
    assert [device.files[p].stat().st_size for p in paths] == [w["nbytes"] for w in want]


def check_job(result: dict, device: FakeDevice, staged: dict[str, Path], backend: str) -> None:
    """Both runs (timed b1, the gallery batch) name the artifact's own inputs; no placeholder, no deviation about it."""
    assert result["status"] == "ok", result.get("error")
    assert len(device.runs) == 2  # timed run of b1, then the gallery run (fidelity off)
    check = check_benchmark_model if backend == "tflite" else check_executor_runner
    for argv, role in zip(device.runs, ("artifact", "gallery")):
        check(argv, staged[role], device)
    for record, role in ((result["input_tensors"], "artifact"), (result["gallery"]["input_tensors"], "gallery")):
        want = litert_inputs(staged[role]) if backend == "tflite" else program_tensors(staged[role])
        assert [(i["shape"], i["dtype"]) for i in record["inputs"]] == [(w["shape"], w["dtype"]) for w in want]
        if backend == "tflite":
            assert [i["name"] for i in record["inputs"]] == [w["name"] for w in want]
    assert result["command"] == device.runs[0] and result["gallery"]["command"] == device.runs[1]
    assert not any("placeholder" in note or "the job names" in note for note in result["protocol_deviations"])


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scratch():
    return create_model(MODEL)


def converted(model, backend: str, precision: str):
    """The model's artifact set (the session's cache); skipped where the conversion itself fails its
    parity floor (then there is no artifact to run: test_convert's concern, not this file's)."""
    pytest.importorskip("ai_edge_litert" if backend == "tflite" else "executorch.runtime")
    try:
        return convert(model, backend, precision, batch_sizes=(1, GALLERY))
    except ConversionError as exc:
        if "parity failed" not in exc.message:
            raise
        pytest.skip(f"no artifact to run: {exc.message}")


# --- (a) the built-in EdgeCLIP-S trained from scratch, fp32 (every precision: the slow zoo test) ------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("tower", ["image", "text"])
def test_runner_command_line_names_the_artifacts_inputs(monkeypatch, tmp_path, scratch, backend, tower):
    artifact_set = converted(scratch, backend, "fp32")
    result, device, staged = run_on_stand_in(monkeypatch, tmp_path, scratch, artifact_set, tower)
    assert result["input_tensors"]["source"] == "artifact"
    check_job(result, device, staged, backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_runner_command_line_from_the_jobs_specs_when_the_host_cannot_read_the_artifact(monkeypatch, tmp_path,
                                                                                        scratch, backend):
    """The runner passes the manifest entry in the job; without a runtime here those are used, and are right."""
    artifact_set = converted(scratch, backend, "fp32")
    monkeypatch.setattr("edge_bench.android.tensors.declared_specs", lambda artifact: None)
    result, device, staged = run_on_stand_in(monkeypatch, tmp_path, scratch, artifact_set, "image", with_specs=True)
    assert result["input_tensors"]["source"] == "job"
    check_job(result, device, staged, backend)


# --- (b) every built-in zoo entry as `edge-bench run` converts it (its default precisions), and every ---
# --- precision both backends offer for the S student (all 35 cases: EDGE_BENCH_ZOO_ALL_PRECISIONS=1) ----


def _zoo():
    import os

    from edge_bench.runner.plan import DEFAULT_MODELS, DEFAULT_PRECISIONS

    every = os.environ.get("EDGE_BENCH_ZOO_ALL_PRECISIONS") == "1"
    return [(name, backend, precision) for name in DEFAULT_MODELS for backend in BACKENDS
            for precision in get_converter(backend).precisions
            if every or precision in DEFAULT_PRECISIONS or name == "edgeclip-s-scratch"]


@pytest.mark.slow
@pytest.mark.parametrize("name, backend, precision", _zoo())
def test_every_zoo_artifact_gets_its_own_inputs_on_the_command_line(monkeypatch, tmp_path, name, backend, precision):
    model = create_model(name)
    artifact_set = converted(model, backend, precision)
    for tower in ("image", "text"):
        result, device, staged = run_on_stand_in(monkeypatch, tmp_path / tower, model, artifact_set, tower)
        check_job(result, device, staged, backend)
        assert_manifest_is_the_artifacts(artifact_set, tower)


# --- (c) the manifest records what the artifact declares ----------------------------------------------


def assert_manifest_is_the_artifacts(artifact_set, tower: str) -> None:
    for entry in artifact_set.manifest["towers"][tower]["artifacts"]:
        path = artifact_set.dir / entry["file"]
        if artifact_set.backend == "tflite":
            want_in = [{k: w[k] for k in ("name", "shape", "dtype")} for w in litert_inputs(path)]
            want_out = litert_outputs(path)
        else:
            want_in = [{"name": f"input_{w['index']}", "shape": w["shape"], "dtype": w["dtype"]} for w in program_tensors(path)]
            want_out = [{"name": f"output_{w['index']}", "shape": w["shape"], "dtype": w["dtype"]}
                        for w in program_tensors(path, "output")]
        assert entry["inputs"] == want_in, entry["file"]
        assert entry["outputs"] == want_out, entry["file"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_manifest_records_the_artifacts_own_tensor_names(scratch, backend):
    artifact_set = converted(scratch, backend, "fp32")
    for tower in ("image", "text"):
        assert_manifest_is_the_artifacts(artifact_set, tower)
    on_disk = json.loads((artifact_set.dir / "manifest.json").read_text())
    first = on_disk["towers"]["image"]["artifacts"][0]
    if backend == "tflite":
        assert first["inputs"][0]["name"] == "serving_default_args_0"  # not the signature key 'args_0'
        assert first["outputs"][0]["name"] == "serving_default_output_0_output"
    else:
        assert first["inputs"][0]["name"] == "input_0"  # a .pte names no inputs: positional


# --- artifact_specs: the artifact, then the caller's manifest entry, then nothing ---------------------


def test_artifact_specs_reads_the_artifact_then_the_callers_entry(tmp_path, scratch):
    artifact_set = converted(scratch, "tflite", "fp32")
    alone = tmp_path / "image-b1.tflite"
    shutil.copy2(artifact_set.artifact("image", 1), alone)
    inputs, outputs = artifact_specs(alone, {"inputs": [{"name": "stale", "shape": [9], "dtype": "float32"}]})
    assert [(s.name, list(s.shape), s.dtype) for s in inputs] == [
        (w["name"], w["shape"], w["dtype"]) for w in litert_inputs(alone)]
    assert outputs[0].name == "serving_default_output_0_output"

    unreadable = tmp_path / "broken.tflite"
    unreadable.write_bytes(b"not a flatbuffer")
    entry = {"inputs": [{"name": "serving_default_args_0", "shape": [1, 3, 64, 64], "dtype": "float32"}],
             "outputs": [{"name": "y", "shape": [1, 256], "dtype": "float32"}]}
    io = artifact_io(unreadable, entry)
    assert io.source == "manifest" and io.inputs[0].name == "serving_default_args_0" and io.inputs[0].shape == (1, 3, 64, 64)
    assert artifact_io(unreadable).source == "none" and artifact_specs(unreadable) == ([], [])
    with pytest.raises(JobError, match="dtype 'complex64'"):
        artifact_specs(unreadable, {"inputs": [{"name": "x", "shape": [1], "dtype": "complex64"}]})


def test_job_specs_that_disagree_with_the_artifact(monkeypatch, tmp_path, scratch):
    """A stale name is replaced by the artifact's (and noted); a wrong shape is an error, never run."""
    artifact_set = converted(scratch, "tflite", "fp32")
    path = artifact_set.artifact("image", 1)
    declared = litert_inputs(path)[0]
    stale = {"inputs": [{"name": "args_0", "shape": declared["shape"], "dtype": "float32"}]}
    io, notes = android_job.tensor_specs(stale, path)
    assert [s.name for s in io.inputs] == [declared["name"]] and io.source == "artifact"
    assert notes and "'args_0'" in notes[0] and declared["name"] in notes[0]
    wrong = {"inputs": [{"name": declared["name"], "shape": [8, 3, 64, 64], "dtype": "float32"}]}
    with pytest.raises(JobError, match="not the artifact's"):
        android_job.tensor_specs(wrong, path)


def test_placeholder_input_only_as_a_last_resort_and_recorded(monkeypatch, tmp_path, scratch):
    artifact_set = converted(scratch, "tflite", "fp32")
    monkeypatch.setattr("edge_bench.android.tensors.declared_specs", lambda artifact: None)
    result, device, _ = run_on_stand_in(monkeypatch, tmp_path, scratch, artifact_set, "image")
    assert flags(device.runs[0])["input_layer"] == "input"
    assert result["input_tensors"]["source"] == "none"
    notes = [n for n in result["protocol_deviations"] if "placeholder" in n]
    assert len(notes) == 2 and notes[1].startswith("gallery: ")  # the timed artifact and the gallery's
