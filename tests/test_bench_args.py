"""The bench scripts' bad input (bench/bench_args.py): one line and exit status 2, before anything is converted
or timed."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

from bench_args import check_axes, positive, run  # noqa: E402  (bench/ is a folder of scripts, not a package)


def test_positive_takes_whole_numbers_of_at_least_one():
    assert positive("3") == 3
    for text in ("0", "-2", "x", "1.5"):
        with pytest.raises(argparse.ArgumentTypeError, match="at least 1"):
            positive(text)


@pytest.mark.parametrize(("axes", "said"), [
    ((["no-such-model"], ["tflite"], ["fp32"]), "unknown model 'no-such-model'"),
    ((["edgeclip-s-scratch"], ["foo"], ["fp32"]), "unknown backend 'foo'"),
    ((["edgeclip-s-scratch"], ["tflite"], ["fp99"]), "unknown precision 'fp99'"),
])
def test_an_unknown_model_backend_or_precision_is_one_line_and_status_2(axes, said, capsys):
    parser = argparse.ArgumentParser(prog="bench.py")
    touched = []

    def body(args) -> int:
        check_axes(*axes)
        touched.append(args)  # never reached: the check comes first
        return 0

    with pytest.raises(SystemExit) as exited:
        run(parser, body, argparse.Namespace())
    err = capsys.readouterr().err
    assert exited.value.code == 2 and not touched
    assert err.startswith(f"bench.py: error: {said}") and err.count("\n") == 1


def test_known_axes_pass_and_the_body_runs():
    check_axes(["edgeclip-s-scratch"], ["executorch", "tflite"], ["fp32", "int8"])
    assert run(argparse.ArgumentParser(), lambda args: 7, argparse.Namespace()) == 7


@pytest.mark.parametrize(("script", "argv", "said"), [
    ("backend_ratio.py", ["--pairs", "nope"], "argument --pairs: 'nope' is not A/B"),
    ("backend_ratio.py", ["--threads", "0"], "argument --threads: '0' is not a whole number of at least 1"),
    ("profile_rollup.py", ["--runs", "0"], "argument --runs: '0' is not a whole number of at least 1"),
])
def test_the_scripts_refuse_bad_options_in_one_line(script, argv, said):
    proc = subprocess.run([sys.executable, str(BENCH / script), *argv], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    last = proc.stderr.splitlines()[-1]
    assert last.startswith(f"{script}: error: {said}")
