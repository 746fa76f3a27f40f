"""`edge-bench run`'s exit status and `--json` summary; the plan checked before anything runs; calibration inputs.

Exit status: 0 every job ok, 1 some job failed (or the device cannot be
reached), 2 bad input (nothing stored), 130 interrupted. Runs are real and
small: the untrained-or-shipped S student from scratch, 16 synthetic images,
LiteRT, a short protocol; a job is made to fail for real by a device whose
"python" is a script that crashes the agent for one backend.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import write_karpathy

from edge_bench import paths
from edge_bench.cli import main
from edge_bench.cli.checks import exit_code, run_summary, validate_plan
from edge_bench.data import load_dataset
from edge_bench.data.calibration import calibration_set
from edge_bench.errors import ConfigError, PlanError
from edge_bench.runner import RunOutcome, RunPlan
from edge_bench.store import Store

MODEL = "edgeclip-s-scratch"
FAST = ["--n-images", "16", "--gallery-batch", "4", "--warmup-runs", "1", "--warmup-seconds", "0",
        "--min-runs", "3", "--min-seconds", "0"]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["run", "-m", MODEL, *FAST, *args])
    out, err = capsys.readouterr()
    return code, out, err


def n_runs() -> int:
    store = Store()
    try:
        return len(store.runs())
    finally:
        store.close()


def errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("edge-bench: error:")]


# -- exit status of real runs ---------------------------------------------------------------------

def test_all_ok_exits_0_and_writes_the_summary(capsys, tmp_path):
    summary_file = tmp_path / "summary.json"
    code, out, err = run(capsys, "-b", "tflite", "--json", str(summary_file))
    assert code == 0, err[-2000:]
    summary = json.loads(summary_file.read_text())
    assert summary["status"] == "complete" and summary["device"] == "local" and summary["exit_code"] == 0
    assert summary["counts"]["ok"] == 1 and summary["counts"]["failed"] == 0
    (job,) = summary["jobs"]
    assert (job["model"], job["backend"], job["precision"], job["dataset"], job["status"], job["reason"]) == (
        MODEL, "tflite", "fp32", "synthetic", "ok", None)
    assert job["image_median_ms"] > 0 and job["text_median_ms"] > 0
    assert job["image_items_per_s"] > 0 and job["text_items_per_s"] > 0
    assert 0 <= job["image_retrieval_recall@1"] <= 1 and 0 <= job["text_retrieval_recall@1"] <= 1
    # the summary is what the store holds
    store = Store()
    (row,) = store.jobs(run_id=summary["run_id"])
    store.close()
    assert row.record.median_ms("image") == job["image_median_ms"]
    # the closing line names the run's log, in the run's folder under the data dir
    log = Path(out.rsplit("log: ", 1)[1].split()[0])
    assert log == paths.data_dir() / "runs" / summary["run_id"] / "run.log" and log.is_file()


def _crashing_python(folder: Path, backend: str) -> Path:
    """A device "python" that runs everything with this Python, except the agent on `backend` jobs, which dies."""
    script = folder / f"python-crashing-{backend}"
    script.write_text(
        "#!/bin/sh\n"
        f"# the {backend} runtime crashes on this device: the agent dies before writing a result\n"
        f"if [ \"$1 $3\" = '-c edge_bench_agent' ] && grep -qs '\"backend\": \"{backend}\"' \"$5\"; then\n"
        f"  echo '{backend} runtime: Illegal instruction' >&2; exit 132\n"
        "fi\n"
        f"exec '{sys.executable}' \"$@\"\n"
    )
    script.chmod(0o755)
    return script


def _profile(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(body)
    return path


def test_some_job_failed_exits_1(capsys, tmp_path):
    python = _crashing_python(tmp_path, "executorch")
    device = _profile(tmp_path, "crashy", f'transport = "local"\npython = "{python}"\nthreads = 1\n'
                                          'backends = ["executorch", "tflite"]\n')
    summary_file = tmp_path / "summary.json"
    code, out, err = run(capsys, "-D", str(device), "-b", "executorch,tflite", "--json", str(summary_file))
    assert code == 1, err[-2000:]
    summary = json.loads(summary_file.read_text())
    assert summary["status"] == "partial" and summary["exit_code"] == 1
    jobs = {j["backend"]: j for j in summary["jobs"]}
    assert jobs["tflite"]["status"] == "ok" and jobs["tflite"]["image_median_ms"] > 0
    assert jobs["executorch"]["status"] == "failed" and "Illegal instruction" in jobs["executorch"]["reason"]
    assert jobs["executorch"]["image_median_ms"] is None
    # one line per job, the failure with its reason
    assert any(line.startswith("  failed ") and f"{MODEL} executorch fp32" in line for line in out.splitlines())


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_device_exits_1_and_stores_nothing(capsys, tmp_path):
    (tmp_path / "known_hosts").write_text("")
    device = _profile(tmp_path, "gone", 'transport = "ssh"\npython = "python3"\nworkdir = "/tmp/edge-bench"\n'
                                        'backends = ["tflite"]\n\n[ssh]\nhost = "127.0.0.1"\n'
                                        f'port = {_closed_port()}\nknown_hosts = "{tmp_path / "known_hosts"}"\n'
                                        'config_file = "none"\nconnect_timeout = 5\ncontrol_master = false\n')
    before = n_runs()
    code, out, err = run(capsys, "-D", str(device), "-b", "tflite")
    assert code == 1 and len(errors(err)) == 1, err
    assert n_runs() == before


# -- bad input: 2, nothing stored -----------------------------------------------------------------

def test_unknown_model_exits_2_names_the_closest_and_stores_nothing(capsys):
    before = n_runs()
    code = main(["run", "-m", "edgeclip-s-scrach", "-b", "tflite", *FAST])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    (line,) = errors(err)
    assert "unknown model 'edgeclip-s-scrach'" in line and "edgeclip-s-scratch" in line
    assert err.count("\n") == 1 and "Traceback" not in err
    assert n_runs() == before


def test_every_problem_is_listed_once_on_its_own_line(capsys, tmp_path):
    before = n_runs()
    code = main(["run", "-m", f"{MODEL},TinyClip-ViT-8M", "-b", "tflte", "-p", "fp8", "-d", "flickr30k",
                 "--data-dir", str(tmp_path / "nowhere"), "-D", "rpi55"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert lines[0] == "edge-bench: error: 5 problems, nothing was run:"
    problems = [line.strip() for line in lines[1:]]
    assert len(problems) == 5
    assert problems[0].startswith("unknown model 'TinyClip-ViT-8M'") and "TinyCLIP-ViT-8M-16-Text-3M" in problems[0]
    assert problems[1].startswith("unknown backend 'tflte'") and "tflite" in problems[1]
    assert problems[2].startswith("unknown precision 'fp8'")
    assert problems[3].startswith("data directory not found")
    assert problems[4].startswith("unknown device 'rpi55'") and "rpi5" in problems[4]
    assert n_runs() == before


@pytest.mark.parametrize("argv", [
    ["--bogus"],  # click's usage error
    ["--n-images", "0"],  # out of range
    ["--weights", "edgeclip-s-scratch"],  # not MODEL=PATH
    ["-b", "tflite", "--json", "/no/such/folder/summary.json"],
    ["-d", "flickr30k"],  # no --data-dir
])
def test_bad_options_exit_2(capsys, argv):
    before = n_runs()
    code = main(["run", "-m", MODEL, *argv])
    _, err = capsys.readouterr()
    assert code == 2, err
    assert "Traceback" not in err
    assert n_runs() == before


def test_help_documents_the_exit_status(capsys):
    assert main(["run", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for needle in ("Exit status:", "0 every job ran and none failed", "1 some job failed", "2 bad input",
                   "130 interrupted", "--json", "--quiet"):
        assert needle in text, needle


@pytest.mark.parametrize("number", [signal.SIGINT, pytest.param(signal.SIGTERM, marks=pytest.mark.slow)])
def test_interrupted_exits_130(tmp_path, number):
    """Ctrl-C (or SIGTERM) during a job: the run stops, says so, is not left marked running, and exits 130."""
    # a timed loop of at least 60 s: the interrupt lands inside the job however fast a cached conversion makes it
    # the last value of an option wins; gallery batch 1: the untrained set the piped-run test converts (test_cli_output)
    slow = FAST + ["--min-seconds", "60", "--max-seconds", "120", "--gallery-batch", "1"]
    proc = subprocess.Popen([sys.executable, "-m", "edge_bench.cli", "run", "-m", MODEL, "-b", "tflite",
                             "--weights", f"{MODEL}=untrained", *slow],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # "run r... on local: 1 job(s)": the job is starting
        assert "job(s)" in line, line + proc.stderr.read()
        time.sleep(3.0)  # converting or inside the job's 60 s timed loop: a toolchain that swallows the interrupt cannot lose it
        proc.send_signal(number)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err[-2000:]
    assert err.strip().splitlines()[-1] == "edge-bench: interrupted" and "Traceback" not in err
    store = Store()
    newest = max(store.runs(), key=lambda r: r.created)
    store.close()
    assert newest.status in ("cancelled", "interrupted")


NESTED_INTERRUPT = """
import ctypes, sys
from edge_bench import cli

def command(*args, **kwargs):
    # a toolchain ran a string (pybind11's py::exec) that the Ctrl-C interrupted, then it reached us
    ctypes.pythonapi.PyRun_SimpleString(b"raise KeyboardInterrupt")
    raise KeyboardInterrupt

cli._load_commands()  # the real commands first (they register on the real app), then ours in its place
cli.app = command
sys.exit(cli.main([]))
"""


def test_a_ctrl_c_that_passed_through_a_toolchain_still_exits_130_under_python_m(tmp_path):
    """CPython's remembered 'unhandled' KeyboardInterrupt must not turn our 130 into death by SIGINT (-2)."""
    (tmp_path / "nested_interrupt.py").write_text(NESTED_INTERRUPT)
    import os

    import edge_bench

    env = {**os.environ, "PYTHONPATH": str(Path(edge_bench.__file__).parents[1])}
    proc = subprocess.run([sys.executable, "-m", "nested_interrupt"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode == 130, proc.stderr[-2000:]
    assert proc.stderr.strip().endswith("edge-bench: interrupted")


def test_exit_status_of_outcomes():
    assert exit_code(RunOutcome("r", "complete", {"ok": 2, "skipped": 1})) == 0
    assert exit_code(RunOutcome("r", "complete", {"ok": 0, "done before": 3})) == 0  # --resume with nothing left
    assert exit_code(RunOutcome("r", "partial", {"ok": 5, "failed": 1})) == 1
    assert exit_code(RunOutcome("r", "complete", {"ok": 0, "skipped": 2})) == 1  # nothing was measured
    assert exit_code(RunOutcome("r", "cancelled", {"ok": 1, "failed": 1, "cancelled": 2})) == 130


def test_summary_of_an_empty_run():
    summary = run_summary(RunOutcome("r1", "complete", {"ok": 0, "skipped": 0}), [], device="local")
    assert summary == {"schema": 1, "run_id": "r1", "device": "local", "status": "complete", "exit_code": 1,
                       "counts": {"ok": 0, "skipped": 0}, "jobs": []}


# -- validate_plan ------------------------------------------------------------------------------

def test_a_good_plan_passes():
    validate_plan(RunPlan(models=(MODEL,), backends=("tflite",), precisions=("all",), n_images=16))


def test_a_karpathy_set_that_cannot_spare_calibration_images_is_bad_input(capsys, tmp_path):
    write_karpathy(tmp_path, "flickr30k", splits={"test": 6})
    plan = RunPlan(models=(MODEL,), backends=("tflite",), dataset="flickr30k", data_dir=str(tmp_path))
    with pytest.raises(PlanError) as info:
        validate_plan(plan)
    (problem,) = info.value.problems
    assert "no val or train split" in problem and "the run scores the whole test split" in problem
    before = n_runs()
    code = main(["run", "-m", MODEL, "-b", "tflite", "-d", "flickr30k", "--data-dir", str(tmp_path)])
    _, err = capsys.readouterr()
    assert code == 2 and len(errors(err)) == 1 and "no val or train split" in err
    assert n_runs() == before


# -- calibration_set ----------------------------------------------------------------------------

def test_calibration_uses_val_when_there_is_one(tmp_path):
    write_karpathy(tmp_path, "flickr30k")  # train 4, val 2, test 6
    samples, label = calibration_set("flickr30k", tmp_path)
    assert label == "val" and samples.split == "val" and samples.n_images == 2


def test_calibration_falls_back_to_train(tmp_path):
    write_karpathy(tmp_path, "mscoco", splits={"train": 5, "test": 6})
    samples, label = calibration_set("mscoco", tmp_path, n_images=3)
    assert label == "train" and samples.n_images == 3 and samples.n_captions == 15
    test_ids = set(load_dataset("mscoco", "test", data_dir=tmp_path).image_ids)
    assert not test_ids & set(samples.image_ids)


def test_calibration_falls_back_to_a_held_out_part_of_test_never_scored(tmp_path):
    write_karpathy(tmp_path, "flickr30k", splits={"test": 10}, captions_per_image=2)
    samples, label = calibration_set("flickr30k", tmp_path, n_images=4, scored_images=6)
    assert label == "test[held-out: last 4 of 10, not scored]" and samples.split == label
    test = load_dataset("flickr30k", "test", data_dir=tmp_path)
    scored = load_dataset("flickr30k", "test", data_dir=tmp_path, n_images=6)
    assert samples.image_ids == test.image_ids[6:] and not set(samples.image_ids) & set(scored.image_ids)
    # captions follow their images, re-indexed from 0
    assert samples.n_captions == 8 and list(samples.caption_image) == [0, 0, 1, 1, 2, 2, 3, 3]
    assert samples.captions == test.captions[12:]
    assert samples.load_image(0).tobytes() == test.load_image(6).tobytes()
    assert samples.fingerprint not in (test.fingerprint, scored.fingerprint)


@pytest.mark.parametrize("scored, needle", [
    (None, "the run scores the whole test split"),
    (8, "the run scores its first 8"),
    (10, "the run scores the whole test split"),
])
def test_calibration_refuses_test_images_the_run_scores(tmp_path, scored, needle):
    write_karpathy(tmp_path, "flickr30k", splits={"test": 10})
    with pytest.raises(ConfigError) as info:
        calibration_set("flickr30k", tmp_path, n_images=4, scored_images=scored)
    text = info.value.one_line()
    assert "no val or train split" in text and needle in text and "--n-images 6" in text


def test_calibration_on_the_synthetic_set_is_its_val_split():
    samples, label = calibration_set("synthetic", None, n_images=8)
    assert label == "val" and samples.split == "val" and samples.n_images == 8

