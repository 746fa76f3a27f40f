"""Output a log can hold: third-party lines go to the run's log file, piped output never wraps, --quiet.

The piped run is a real `edge-bench run` in a subprocess with stdout and
stderr to files; its conversions are fresh (untrained weights, a key no other
test converts), so the converters' C++ log lines and the quantizer's tqdm bars
really happen, and must land in the log named at the end, not in the output.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from rich.table import Table

from edge_bench import paths
from edge_bench.cli import main
from edge_bench.cli.ui import CliConsole

MODEL = "edgeclip-s-scratch"
FAST = ["--n-images", "16", "--gallery-batch", "4", "--warmup-runs", "1", "--warmup-seconds", "0",
        "--min-runs", "3", "--min-seconds", "0"]
THIRD_PARTY = ("INFO:", "XNNPACK", "oneDNN", "absl", "W0000", "%|", "cpuinfo", "Failed to load", "it/s]")
GLOG = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d")
"""A glog / absl C++ log line: 'W1201 20:25:35.912000 1044 file.py:630] ...'."""
BORDERS = "│┃"


def third_party_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if any(m in line for m in THIRD_PARTY) or GLOG.match(line)]


def tables(text: str) -> list[list[str]]:
    """Each rich table's body rows (lines between its header rule and its bottom rule)."""
    found, body = [], None
    for line in text.splitlines():
        if line.startswith("┡"):
            body = []
        elif line.startswith("└") and body is not None:
            found.append(body)
            body = None
        elif body is not None:
            body.append(line)
    return found


def assert_rows_whole(text: str, labels: list[str]) -> None:
    """Every table line starts and ends with its border; no row is wrapped onto a second line."""
    for line in text.splitlines():
        if line[:1] in BORDERS or line[:1] in "┏┡└":
            assert line.rstrip()[-1] in BORDERS + "┓┩┘", f"wrapped or cut table line: {line!r}"
    for body in tables(text):
        for row in body:
            first = row.split("│")[1].strip()
            assert first, f"a continuation line (a wrapped row): {row!r}"
            assert any(label in row for label in labels), f"a row without a whole job label: {row!r}"
        for label in labels:
            assert sum(label in row for row in body) <= 1


def test_output_log_moves_descriptors_not_just_python_streams(tmp_path):
    """C++ writing to fd 1/2, libc printf, Python prints and child processes go to the log;
    the CLI's consoles keep the real stdout and stderr."""
    log = tmp_path / "logs" / "x.log"
    script = f"""
import ctypes, os, subprocess, sys
from pathlib import Path
from edge_bench.cli.logs import OutputLog
from edge_bench.cli.ui import console, err_console
console.print("ours before")
with OutputLog(Path({str(log)!r}), title="test") as captured:
    console.print("ours: stdout")
    err_console.print("ours: stderr")
    os.write(1, b"W0000 00:00:00.000 1 cpp.cc:1] fd 1 from C++\\n")
    os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\n")
    print("a python print")
    print("a python warning", file=sys.stderr)
    ctypes.CDLL(None).printf(b"libc printf %d\\n", 7)
    subprocess.run(["sh", "-c", "echo child out; echo child err >&2"])
    captured.move_to(Path({str(tmp_path / "runs" / "r1" / "run.log")!r}))
    os.write(2, b"after the move\\n")
console.print("ours after")
print("python after")
"""
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("w") as o, err.open("w") as e:
        proc = subprocess.run([sys.executable, "-c", script], stdout=o, stderr=e, timeout=120)
    assert proc.returncode == 0, err.read_text()
    assert out.read_text() == "ours before\nours: stdout\nours after\npython after\n"
    assert err.read_text() == "ours: stderr\n"
    moved = tmp_path / "runs" / "r1" / "run.log"
    assert not log.exists() and moved.is_file()
    text = moved.read_text()
    for line in ("fd 1 from C++", "XNNPACK delegate", "a python print", "a python warning", "libc printf 7",
                 "child out", "child err", "after the move"):
        assert line in text, line


def test_piped_console_never_wraps_a_table_row_or_a_line():
    buffer = io.StringIO()
    console = CliConsole(file=buffer)
    table = Table(title="wide")
    for i in range(12):
        table.add_column(f"column {i}")
    table.add_row(*[f"a value that is rather long {i}" for i in range(12)])
    console.print(table)
    console.print("x" * 300)
    lines = buffer.getvalue().splitlines()
    rows = [line for line in lines if line.startswith("│")]
    assert len(rows) == 1 and rows[0].endswith("│") and "rather long 11" in rows[0]
    assert "x" * 300 in lines
    assert console.width < 300  # widened for the table only


def test_piped_run_holds_no_third_party_lines_and_no_wrapped_rows(tmp_path):
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    summary = tmp_path / "summary.json"
    # gallery batch 1: the conversions (batch 1 only) still print what they print, at half the artifacts
    argv = [sys.executable, "-m", "edge_bench.cli", "run", "-m", MODEL, "-b", "tflite", "-p", "fp32,fp16",
            "--weights", f"{MODEL}=untrained", *FAST, "--gallery-batch", "1", "--json", str(summary)]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("COLUMNS", None)
    with out.open("w") as o, err.open("w") as e:
        proc = subprocess.run(argv, stdout=o, stderr=e, env=env, timeout=3000)
    stdout, stderr = out.read_text(), err.read_text()
    assert proc.returncode == 0, stderr[-3000:]
    assert third_party_lines(stdout) == [] and third_party_lines(stderr) == []
    assert stderr == ""
    labels = [f"{MODEL} tflite fp32", f"{MODEL} tflite fp16"]
    # one plain line per finished job, no spinner or progress redraws
    job_lines = [line for line in stdout.splitlines() if line.startswith("  ok ")]
    assert len(job_lines) == 2 and all(any(label in line for label in labels) for line in job_lines)
    assert "\r" not in stdout and "\x1b" not in stdout
    assert_rows_whole(stdout, labels)
    assert len(tables(stdout)) == 2
    # the log, named at the end, holds what the converters printed
    run_id = json.loads(summary.read_text())["run_id"]
    log = Path(stdout.strip().splitlines()[-1].rsplit("log: ", 1)[1])
    assert log == paths.data_dir() / "runs" / run_id / "run.log"
    assert third_party_lines(log.read_text())


def test_quiet_prints_the_tables_and_the_closing_line_only(capsys):
    code = main(["run", "-q", "-m", MODEL, "-b", "tflite", *FAST])
    out, err = capsys.readouterr()
    assert code == 0, err[-2000:]
    assert "job(s)" not in out and not [line for line in out.splitlines() if line.startswith("  ok ")]
    assert_rows_whole(out, [f"{MODEL} tflite fp32"])
    assert len(tables(out)) == 2
    last = out.strip().splitlines()[-1]
    assert last.startswith("run r") and " complete (1 ok)" in last and "log: " in last


def test_convert_takes_lists_and_notes_only_what_ran(capsys):
    code = main(["convert", MODEL, "-b", "tflite", "-p", "fp32,fp16", "--batch-sizes", "1"])
    out, err = capsys.readouterr()
    assert code == 0, err[-2000:]
    rows = [line for line in out.splitlines() if line.startswith("│")]
    assert sum("tflite fp32" in r for r in rows) == 2 and sum("tflite fp16" in r for r in rows) == 2
    assert "Core ML" not in out + err and third_party_lines(out + err) == []
    assert "calibration and parity inputs: synthetic val" in out
    log = Path(out.strip().splitlines()[-1].rsplit("log: ", 1)[1])
    assert log.parent == paths.data_dir() / "logs" and log.is_file()
    # with a list, a backend that does not offer a precision is skipped with a message
    code = main(["convert", MODEL, "-b", "executorch", "-b", "tflite", "-p", "fp16", "--batch-sizes", "1"])
    out, err = capsys.readouterr()
    assert code == 0, err[-2000:]
    assert "executorch: skipped, it does not offer fp16" in " ".join(err.split())
    rows = [line for line in out.splitlines() if line.startswith("│")]
    assert len(rows) == 2 and all("tflite fp16" in r for r in rows)
