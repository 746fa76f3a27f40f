"""`edge-bench profile` and `run --profile` (#14): the options explained, and one real profiled job on this host."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CLI = [sys.executable, "-c", "import sys; from edge_bench.cli import main; sys.exit(main())"]


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, env={**__import__("os").environ, "COLUMNS": "200"})


def test_profile_and_run_profile_help():
    out = _cli("profile", "--help").stdout
    for words in ("--backend", "--runs", "ETDump", "ETRecord", "roll-up by block", "placement", "--json", "--csv"):
        assert words in out
    assert "--profile" in _cli("run", "--help").stdout


def test_profile_an_unknown_model_is_one_line(isolated_home):
    proc = _cli("profile", "no-such-model")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "no-such-model" in proc.stderr


@pytest.mark.slow  # converts the S student and runs both towers with a profiling pass
def test_profile_a_student_on_this_host(tmp_path, isolated_home):
    pytest.importorskip("executorch")
    out = tmp_path / "profile.json"
    proc = _cli("profile", "edgeclip-s-distilled", "--backend", "executorch", "--runs", "10", "--n-images", "16",
                "--min-runs", "20", "--min-seconds", "0", "--json", str(out), "--csv", str(tmp_path / "ops.csv"), timeout=1800)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "time by block" in proc.stdout and "coverage" in proc.stdout
    (job,) = json.loads(out.read_text())
    for tower in ("image", "text"):
        p = job["towers"][tower]
        assert p["status"] == "ok" and p["source"] == "etdump" and p["runs"] == 10
        blocks = {b["block"] for b in p["blocks"]}
        assert {"attention", "mlp", "norms", "layout"} <= blocks
        assert {"patch embedding" if tower == "image" else "token embedding"} <= blocks
        assert p["wall_s"] > 0 and p["job_wall_s"] > p["wall_s"]
        assert any(r["module"].endswith("attn.qkv") and r["kind"] == "delegate" for r in p["ops"])
    lines = (tmp_path / "ops.csv").read_text().splitlines()
    assert lines[0].startswith("job,model,backend,precision,tower,index,operator,where,block,module")
    assert len(lines) == 1 + sum(len(job["towers"][t]["ops"]) for t in ("image", "text"))
