"""A device that sends back a hostile result: each such job fails with a one-line reason, the run ends `partial`.

The device is the local host with a real transport; its "Python" is a script that hands every command to the real
interpreter (the fingerprint, the agent check) except the agent's jobs, which it answers itself: a result naming an
embeddings file outside the job's folder, one with a NaN sample, one of 100 MB, and one good result. Everything the
host does with them is the real code (push, run, pull, read, check); only the artifacts are the scripted stand-ins,
so nothing is converted.
"""

from __future__ import annotations

import json
import sys
import textwrap

import numpy as np
import pytest

from edge_bench.agent.spec import Protocol
from edge_bench.executors.agent import AgentExecutor
from edge_bench.executors.scripted import ScriptedExecutor
from edge_bench.executors.validate import RESULT_MAX_BYTES, InvalidResult, check_result, load_embeddings, parse_result
from edge_bench.runner import RunPlan, Runner
from edge_bench.store import Store

MODEL = "edgeclip-s-scratch"
FAST = Protocol(warmup_min_runs=2, warmup_min_seconds=0.0, min_runs=8, min_seconds=0.0, max_runs=200, max_seconds=5.0)

FAKE_PYTHON = textwrap.dedent("""\
    #!{python}
    import json, os, sys
    args = sys.argv[1:]
    if not args or not args[-1].endswith(".job.json"):  # not an agent job: the real interpreter
        os.execv({python!r}, [{python!r}, *args])
    import numpy as np
    job = json.load(open(args[-1]))
    out = job["output_dir"]
    os.makedirs(out, exist_ok=True)
    model, backend, precision, tower, batch = open(job["artifact"]["path"]).read().split()
    n = int(np.load(job["inputs"]["path"], mmap_mode="r").shape[0])
    emb = np.random.default_rng(0).standard_normal((n, {dim})).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    np.save(os.path.join(out, "embeddings.npy"), emb)
    result = {{"schema": 1, "job_id": job["job_id"], "status": "ok", "error": None, "phase": "done",
              "latency_s": [0.001 + i * 1e-5 for i in range(10)], "first_inference_s": 0.002, "load_s": 0.01,
              "warmup": {{"n": 2, "seconds": 0.002}}, "timed": {{"n": 10, "seconds": 0.01, "complete": True}},
              "memory": {{"units": "bytes", "peak_rss_bytes": 2 ** 26, "peak_rss_source": "VmHWM"}},
              "thermal": {{"before": {{}}, "after": {{}}}}, "threads": 1, "agent_version": "hostile",
              "embeddings": {{"file": "embeddings.npy", "shape": [n, {dim}], "dtype": "float32"}}}}
    mode = {modes!r}.get(backend + "/" + precision) if tower == "image" else None
    if mode == "escape":  # a well-formed array, planted outside the job's folder
        np.save({planted!r}, emb)
        result["embeddings"]["file"] = {planted!r}
    elif mode == "nan":
        result["latency_s"][3] = float("nan")
    elif mode == "huge":
        result["padding"] = "x" * (100 * 2 ** 20)
    with open(os.path.join(out, "result.json"), "w") as f:
        f.write(json.dumps(result))
    print(json.dumps({{"status": "ok", "phase": "done", "error": None, "result": out + "/result.json"}}))
""")
MODES = {"executorch/fp32": "escape", "executorch/int8": "nan", "tflite/fp32": "huge"}  # tflite/int8: a good result


class AgentOnStandIns(AgentExecutor):
    """The real agent executor (push, run, pull, read, check) on the scripted executor's stand-in artifacts."""

    provides_artifacts = True

    def artifacts(self, model, backend, precision, folder, batch_sizes):
        return ScriptedExecutor().artifacts(model, backend, precision, folder, batch_sizes)


def test_hostile_results_fail_their_jobs_with_a_reason_and_the_run_ends_partial(tmp_path):
    from edge_bench.models import create_model

    planted = tmp_path / "planted.npy"
    fake = tmp_path / "fake-python"
    fake.write_text(FAKE_PYTHON.format(python=sys.executable, dim=create_model(MODEL).embed_dim, modes=MODES,
                                       planted=str(planted)))
    fake.chmod(0o755)
    profile = tmp_path / "hostile.toml"
    profile.write_text(f'name = "hostile"\ntransport = "local"\npython = "{fake}"\nworkdir = "{tmp_path / "device"}"\n'
                       'threads = 1\naffinity = []\nthermal_zones = []\nbackends = ["executorch", "tflite"]\n')
    store = Store(tmp_path / "results.sqlite")
    plan = RunPlan(device=str(profile), models=(MODEL,), backends=("executorch", "tflite"), precisions=("fp32", "int8"),
                   n_images=16, gallery_batch=4, protocol=FAST, ceilings=False)
    outcome = Runner(store, executor_factory=lambda profile, transport, root: AgentOnStandIns(transport, root)).run(plan)

    assert outcome.status == "partial" and store.run(outcome.run_id).status == "partial"
    assert (outcome.counts["ok"], outcome.counts["failed"]) == (1, 3)
    jobs = {f"{j.backend}/{j.precision}": j for j in store.jobs(run_id=outcome.run_id)}
    reasons = {key: job.error for key, job in jobs.items() if job.status == "failed"}
    assert set(reasons) == {"executorch/fp32", "executorch/int8", "tflite/fp32"}
    assert reasons["executorch/fp32"].startswith(f"result.json: embeddings.file {str(planted)[:20]!r}"[:-1])
    assert reasons["executorch/fp32"].endswith("is not a plain file name in the job's output folder")
    assert reasons["executorch/int8"] == "result.json from the device is not usable JSON: NaN is not a number JSON allows"
    assert reasons["tflite/fp32"].startswith("result.json from the device is 104,85")
    assert reasons["tflite/fp32"].endswith(f"bytes, over the {RESULT_MAX_BYTES:,}-byte limit")
    for key in reasons:
        assert jobs[key].record.failure.phase == "result" and jobs[key].record.accuracy is None
    good = jobs["tflite/int8"]
    assert good.status == "ok" and good.record.towers["image"].latency.n == 10 and good.record.accuracy is not None
    store.close()


# --- the checks themselves --------------------------------------------------------------------------------


def test_a_good_agent_result_passes_and_bad_fields_are_named():
    good = {"status": "ok", "latency_s": [0.1, 0.2], "gallery": {"batch": 4, "batch_latency_s": [0.3]},
            "memory": {"units": "bytes", "peak_rss_bytes": 10}, "thermal": {"before": {"zone0": 41.5}, "after": None}}
    assert check_result(good) is good
    bad = [({**good, "latency_s": [0.1, -1]}, "result.json: latency_s[1] is out of range"),
           ({**good, "latency_s": "fast"}, "result.json: latency_s is not a list of seconds"),
           ({**good, "status": "great"}, "result.json: status is 'great', not one of running, ok, failed"),
           ({**good, "gallery": {"batch": 0}}, "result.json: gallery.batch is out of range"),
           ({**good, "memory": {"peak_rss_bytes": [1]}}, "result.json: memory.peak_rss_bytes is not a string, number or boolean"),
           ({**good, "load_s": 1e300}, "result.json: load_s is not a finite number of sane size"),
           ({**good, "x": "y" * 5000}, "result.json: x is a string of 5,000 characters"),
           ({**good, "x": [[[[[[[[[[1]]]]]]]]]]}, "is nested deeper than 8 levels"),
           ([good], "result.json from the device is a JSON array, not an object")]
    for data, message in bad:
        with pytest.raises(InvalidResult) as info:
            check_result(data)
        assert message in info.value.one_line() and "\n" not in info.value.one_line()
    for raw, message in [(b"\xff", "not UTF-8"), (b'{"status": "ok", "load_s": Infinity}', "Infinity is not a number"),
                         (b'{"status": "ok", "load_s": 1e999}', "load_s is not a finite number"), (b"[" * 100000, "nested deeper"),
                         (b'{"status": ', "not JSON: Expecting value at line 1 column 12")]:
        with pytest.raises(InvalidResult, match=message):
            parse_result(raw)


def test_embeddings_are_confined_to_the_folder_and_checked(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    good = np.ones((5, 8), dtype=np.float32)
    np.save(out / "embeddings.npy", good)
    result = {"embeddings": {"file": "embeddings.npy", "shape": [5, 8]}}
    assert np.array_equal(load_embeddings(out, result, 5), good)
    np.save(tmp_path / "outside.npy", good)
    (out / "link.npy").symlink_to(tmp_path / "outside.npy")
    np.save(out / "nan.npy", np.full((5, 8), np.nan, dtype=np.float32))
    np.save(out / "f64.npy", good.astype(np.float64))
    (out / "short.npy").write_bytes((out / "embeddings.npy").read_bytes()[:-4])
    (out / "junk.npy").write_bytes(b"not an npy at all")
    cases = {"../outside.npy": "is not a plain file name", str(tmp_path / "outside.npy"): "is not a plain file name",
             "link.npy": "leads out of the job's output folder", "missing.npy": "did not come back from the device",
             "nan.npy": "holds NaN or infinite values", "f64.npy": "not float32 (N, D)", "short.npy": "bytes, not",
             "junk.npy": "is not a readable .npy", "": "is not a plain file name"}
    for name, message in cases.items():
        with pytest.raises(InvalidResult, match=message.replace("(", r"\(").replace(")", r"\)")):
            load_embeddings(out, {"embeddings": {"file": name}}, 5)
    with pytest.raises(InvalidResult, match="has 5 rows, not one per item of the split"):
        load_embeddings(out, result, 6)
    with pytest.raises(InvalidResult, match="names no embeddings file"):
        load_embeddings(out, {"status": "ok"}, 5)
    assert json.dumps(result)  # the result is not modified
