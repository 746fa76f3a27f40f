"""The agent's command line: `python3 -m edge_bench_agent JOB.json`.

Exit status: 0 when the job succeeded, 1 when it failed (result.json says
where and why), 2 when the job file cannot be read or no result can be
written (the reason goes to stderr). stdout gets one JSON line at the end:
status, phase, error and the result file's path.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from . import AGENT_VERSION
from .errors import AgentError, one_line
from .spec import JobSpec
from .result import ResultFile
from .run import JobRun


def _read_job(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict) or not isinstance(data.get("output_dir"), str) or not data["output_dir"]:
        raise ValueError("the job has no output_dir")
    return data


def _output_dir(data: dict) -> Path:
    out = Path(data["output_dir"]).expanduser()
    return out if out.is_absolute() else Path(str(data.get("workdir") or ".")).expanduser() / out


def _on_sigterm(result: ResultFile):
    def handler(signum, frame):  # noqa: ARG001  (the signature is fixed by the caller)
        raise AgentError(result.phase, f"terminated by signal {signum} during {result.phase}")

    return handler


def execute(data: dict, result: ResultFile) -> BaseException | None:
    """Run a parsed job into `result`; the error that stopped it, or None."""
    run = None
    try:
        job = JobSpec.from_dict(data)
        run = JobRun(job, result)
        run.run()
        return None
    except (Exception, KeyboardInterrupt) as exc:
        return exc
    finally:
        if run is not None:
            try:
                run.close()
            except Exception:  # a reading after the fact never hides the job's own outcome
                pass


def main(argv: list[str] | None = None) -> int:
    """Run the job file given on the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python3 -m edge_bench_agent", description="Run one edge-bench job.")
    parser.add_argument("job", help="the job spec (JSON)")
    parser.add_argument("--version", action="version", version=AGENT_VERSION)
    args = parser.parse_args(argv)
    try:
        data = _read_job(args.job)
    except (OSError, ValueError) as exc:
        print(f"edge_bench_agent: cannot read job {args.job}: {one_line(exc)}", file=sys.stderr)
        return 2
    result = ResultFile(_output_dir(data), str(data.get("job_id", "")))
    signal.signal(signal.SIGTERM, _on_sigterm(result))
    error = execute(data, result)
    try:
        result.finish(error)
    except OSError as exc:
        print(f"edge_bench_agent: cannot write {result.path}: {one_line(exc)}", file=sys.stderr)
        return 2
    summary = {k: result.data[k] for k in ("status", "phase", "error")}
    print(json.dumps({**summary, "result": str(result.path)}), flush=True)
    if error is not None:
        print(f"edge_bench_agent: failed in {result.data['phase']}: {result.data['error']}", file=sys.stderr)
    return 0 if error is None else 1
