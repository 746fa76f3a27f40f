"""--repeat, the replicability rule, and compare's intervals and verdicts (a scripted device: no timing noise)."""

from __future__ import annotations

import pytest

from edge_bench.cli import main
from edge_bench.executors.scripted import Script, ScriptedExecutor
from edge_bench.records.compare import FASTER, SAME, SLOWER, compare_latency, t975
from edge_bench.records.tower import LatencyStats, TowerResult
from edge_bench.runner import RunPlan, Runner
from edge_bench.store import Store

FAST, SLOW = "edgeclip-s-scratch", "edgeclip-m-scratch"


def _run(store, script, repeat=5, models=(FAST, SLOW), **over):
    plan = RunPlan(models=models, backends=("tflite",), n_images=16, gallery_batch=4, repeat=repeat, **over)
    outcome = Runner(store, executor_factory=lambda profile, transport, root: ScriptedExecutor(script)).run(plan)
    return outcome, {r.model: r for r in store.jobs(run_id=outcome.run_id)}


@pytest.fixture
def store(isolated_home):
    s = Store()
    yield s
    s.close()


def test_repeats_run_in_fresh_rounds_interleaved_across_jobs(store):
    script = Script(latency_ms=lambda key: 2.0 if key[0] == FAST else 4.0)
    outcome, rows = _run(store, script, repeat=3)
    assert outcome.status == "complete"
    towers = [(model, tower) for model, _, _, tower in script.calls]
    one_round = [(FAST, "image"), (FAST, "text"), (SLOW, "image"), (SLOW, "text")]
    assert towers == one_round * 3  # round 1 of every job, then round 2 of every job, ...
    for model, expected_ms in ((FAST, 2.0), (SLOW, 4.0)):
        tower = rows[model].record.tower("image")
        assert len(tower.repeats) == 3 and tower.repeats[0] == tower.latency  # the first run is the first repeat
        medians = tower.repeat_medians
        assert medians[0] == pytest.approx(expected_ms / 1e3)
        assert all(abs(m / medians[0] - 1) <= script.repeat_drift for m in medians)
        spread = (max(medians) - min(medians)) / sorted(medians)[1]
        assert tower.replicability == pytest.approx(spread) and tower.replicable is (spread <= 0.05)
        assert tower.cooldown_waited_s[0] == 0.0 and len(tower.cooldown_waited_s) == 3


def test_the_cooldown_gate_waits_and_records_it(store):
    _, rows = _run(store, Script(), repeat=2, models=(FAST,), cooldown_seconds=0.3)
    waited = rows[FAST].record.tower("text").cooldown_waited_s
    assert waited[0] == 0.0 and waited[1] >= 0.3


def test_a_replicability_beyond_five_percent_is_reported_as_such():
    tower = TowerResult(repeats=tuple(LatencyStats.of([m]) for m in (1.00, 1.10, 1.02)))
    assert tower.replicability == pytest.approx(0.10 / 1.02) and tower.replicable is False


def test_an_artifact_compared_with_itself_shows_no_significant_difference(store):
    _, rows = _run(store, Script(latency_ms=lambda key: 3.0), repeat=5)
    tower = rows[FAST].record.tower("image")
    same = compare_latency(tower, tower)
    assert same.method == "repeats" and same.verdict == SAME and same.low < 1 < same.high
    # without repeats: the bootstrap of one run's samples
    bare = TowerResult(latency=tower.latency)
    assert compare_latency(bare, bare).verdict == SAME


def test_a_clearly_faster_model_is_faster_and_the_other_way_slower(store):
    _, rows = _run(store, Script(latency_ms=lambda key: 2.0 if key[0] == FAST else 4.0), repeat=5)
    fast, slow = rows[FAST].record.tower("image"), rows[SLOW].record.tower("image")
    b_over_a = compare_latency(slow, fast)  # A = slow model, B = fast model
    assert b_over_a.verdict == FASTER and b_over_a.high < 1 and b_over_a.ratio == pytest.approx(0.5, rel=0.03)
    assert compare_latency(fast, slow).verdict == SLOWER


def test_the_interval_over_repeats_is_welchs_t_on_log_medians():
    import math

    import numpy as np

    a = TowerResult(repeats=tuple(LatencyStats.of([m]) for m in (1.0, 1.1, 0.9)))
    b = TowerResult(repeats=tuple(LatencyStats.of([m]) for m in (2.0, 2.2, 1.8)))
    la, lb = np.log([1.0, 1.1, 0.9]), np.log([2.0, 2.2, 1.8])
    se = math.sqrt(la.var(ddof=1) / 3 + lb.var(ddof=1) / 3)
    df = se ** 4 / ((la.var(ddof=1) / 3) ** 2 / 2 + (lb.var(ddof=1) / 3) ** 2 / 2)
    diff = lb.mean() - la.mean()
    c = compare_latency(a, b)
    assert c.ratio == pytest.approx(2.0)
    assert c.low == pytest.approx(math.exp(diff - t975(df) * se)) and c.high == pytest.approx(math.exp(diff + t975(df) * se))
    assert t975(4) == 2.776 and t975(4 - 1e-12) == 2.776 and t975(4.9) == 2.776 and t975(3.5) == 3.182 and t975(100) == 1.96


def test_compare_cli_prints_verdicts_and_fails_on_a_significant_regression(store, capsys):
    fast_run, _ = _run(store, Script(latency_ms=lambda key: 2.0), repeat=3, models=(FAST,))
    slow_run, _ = _run(store, Script(latency_ms=lambda key: 3.0, seed=1), repeat=3, models=(FAST,))
    assert main(["compare", slow_run.run_id, fast_run.run_id]) == 0
    out = capsys.readouterr().out
    assert "faster" in out and "edgeclip-s-scratch tflite fp32" in out
    assert main(["compare", fast_run.run_id, slow_run.run_id, "--fail-if-slower", "10"]) == 1
    assert "regression beyond 10%" in capsys.readouterr().err
    assert main(["compare", fast_run.run_id, slow_run.run_id, "--fail-if-slower", "80"]) == 0  # 50% slower, not 80%
    assert main(["compare", fast_run.run_id, fast_run.run_id, "--fail-if-slower", "0"]) == 0
