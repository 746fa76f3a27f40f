"""Reports from real store rows: the runner on a scripted device, under two device profiles, once per module.

The rows are what `Runner` writes: every job runs through `Runner(...).run(plan)` with `ScriptedExecutor`
(nothing converted, no agent started; latencies from the script, embeddings the fp32 reference with a
per-precision perturbation). Records: teacher and an untrained student on executorch and tflite, fp32 and
int8-dynamic, on `local` and on `report-b` (a second profile in the config dir, slower by the script); a
failed job (Script.fail) and a skipped one (a backend the profile does not list) on `local`; an empty run;
and on `report-b` a newer copy of one teacher record whose embeddings disagree with the host's (built with
the typed record and its verdict computed by the runner's own function). The HTML render in chromium is
the one test that needs a real program besides Python.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import threading
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from helpers import write_karpathy

from edge_bench.agent.spec import Protocol
from edge_bench.errors import ConfigError, StoreError
from edge_bench.executors.scripted import Script, ScriptedExecutor
from edge_bench.metrics.fidelity import cosine_stats
from edge_bench.records.codec import decode
from edge_bench.records.job import HOST_COMPUTED, TOWERS, CosineStats, JobRecord
from edge_bench.report import build_compare_report, build_device_report, write_report
from edge_bench.runner import RunPlan, Runner
from edge_bench.runner.job_run import agreement_verdict
from edge_bench.store import Store

# one pytest-xdist worker runs the whole file: its module fixture runs a real plan once
pytestmark = pytest.mark.xdist_group("test_report")

ROOT = Path(__file__).resolve().parent.parent
MODELS = ("edgeclip-teacher", "edgeclip-s-scratch")
UNTRAINED = "edgeclip-s-scratch"  # run from its random initialisation: the report must say its recall is chance
BACKENDS = ("executorch", "tflite")
PRECISIONS = ("fp32", "int8-dynamic")
JOBS = [(m, b, p) for m in MODELS for b in BACKENDS for p in PRECISIONS]
LABELS = sorted(" ".join(j) for j in JOBS)
PLAN = dict(models=MODELS, backends=BACKENDS, precisions=PRECISIONS, n_images=20, gallery_batch=4, weights={UNTRAINED: "untrained"},
            protocol=Protocol(2, 0.0, 5, 0.0, 50, 5.0))
RUNS = 15  # timed samples per tower on the scripted device
MEDIAN_MS = {("edgeclip-teacher", "image"): 9.0, ("edgeclip-teacher", "text"): 3.0,
             (UNTRAINED, "image"): 2.0, (UNTRAINED, "text"): 0.8}
FACTOR = {"executorch": 1.0, "tflite": 0.9, "fp32": 1.0, "int8-dynamic": 0.6, "int8": 0.5, "local": 1.0, "report-b": 1.7}
"""Each median is MEDIAN_MS times the factors of its backend, precision and device."""
FAILED_JOB = (UNTRAINED, "tflite", "int8", "image")
FAILED_REASON = "image tower failed in agent: the agent left no result (killed by signal 9)"
SKIPPED_REASON = "the device profile does not list coreml (it runs executorch, tflite)"


def script(device: str, **kw) -> Script:
    """The scripted device: per-model tower medians, scaled per backend, precision and device."""
    def latency(key):
        model, backend, precision, tower = key
        return MEDIAN_MS[(model, tower)] * FACTOR[backend] * FACTOR[precision] * FACTOR[device]
    return Script(latency_ms=latency, runs=RUNS, seed={"local": 0, "report-b": 1}[device], **kw)


def run(store: Store, plan: RunPlan, s: Script):
    """One plan through the real runner, every tower answered by the script."""
    return Runner(store, executor_factory=lambda profile, transport, local_root: ScriptedExecutor(s)).run(plan)


@dataclass
class Records:
    home: Path
    store: Store
    run_a: str
    run_b: str
    run_problems: str
    run_empty: str
    run_disagree: str


def _profile_b(home: Path) -> None:
    folder = home / "config" / "devices"
    folder.mkdir(parents=True)
    text = (ROOT / "device_profiles" / "local.toml").read_text()
    assert 'name = "local"' in text and "describe_host = true" in text
    text = text.replace('name = "local"', 'name = "report-b"').replace("describe_host = true", "peak_gflops = 100.0")
    (folder / "report-b.toml").write_text(text)


def _home(home: Path, session_home: Path) -> None:
    (session_home / "cache").mkdir(exist_ok=True)
    (home / "cache").symlink_to(session_home / "cache")  # the synthetic set and fp32 references shared with the session
    _profile_b(home)


def _problems(store: Store) -> str:
    """A run on `local` with one failed job (the script kills its image tower) and one skipped job."""
    plan = RunPlan(device="local", **{**PLAN, "models": (UNTRAINED,), "backends": ("tflite", "coreml"), "precisions": ("int8",)})
    outcome = run(store, plan, script("local", fail={FAILED_JOB: ("agent", "the agent left no result (killed by signal 9)")}))
    assert (outcome.status, outcome.counts["failed"], outcome.counts["skipped"]) == ("partial", 1, 1), outcome
    return outcome.run_id


def _disagreeing(store: Store, run_b: str) -> str:
    """A copy of report-b's teacher tflite fp32 record whose device embeddings were corrupted, as a faulty device makes them."""
    row = next(j for j in store.jobs(run_id=run_b) if (j.model, j.backend, j.precision) == ("edgeclip-teacher", "tflite", "fp32"))
    record: JobRecord = row.record
    host = {t: np.load(record.embeddings[t]) for t in TOWERS}
    device = {"image": host["image"] + np.random.default_rng(0).normal(0, 0.2, host["image"].shape).astype(np.float32),
              "text": host["text"]}
    agreement = {t: decode(CosineStats, cosine_stats(device[t], host[t])) for t in TOWERS}
    record = replace(record, fidelity=replace(record.fidelity, vs_host_artifact=agreement, verdict=agreement_verdict(agreement)),
                     accuracy=replace(record.accuracy, source=HOST_COMPUTED))
    assert record.disagrees and record.host_recall
    new = store.create_run("report-b", "disagree", {"dataset": "synthetic"}, "test")
    store.add_job(new.id, record)
    store.set_run_status(new.id, "complete")
    return new.id


@pytest.fixture(scope="module")
def records(tmp_path_factory, session_home) -> Records:
    """The runner twice on the scripted device (two profiles), then the failure, empty and disagreeing rows."""
    home = tmp_path_factory.mktemp("report-home")
    _home(home, session_home)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDGE_BENCH_HOME", str(home))
        store = Store()
        a = run(store, RunPlan(device="local", **PLAN), script("local"))
        b = run(store, RunPlan(device="report-b", **PLAN), script("report-b"))
        assert a.status == b.status == "complete" and a.counts["ok"] == b.counts["ok"] == len(JOBS), (a, b)
        problems = _problems(store)
        empty = store.create_run("local", "empty", {"dataset": "synthetic"}, "test").id
        disagree = _disagreeing(store, b.run_id)
    return Records(home, store, a.run_id, b.run_id, problems, empty, disagree)


@pytest.fixture
def rec(records, monkeypatch) -> Records:
    monkeypatch.setenv("EDGE_BENCH_HOME", str(records.home))
    return records


class Page(HTMLParser):
    """What a test needs from an HTML page: tables, images, headings, alerts, links."""

    def __init__(self) -> None:
        super().__init__()
        self.tables, self.images, self.h2, self.alerts, self.refs, self.cells = 0, [], [], [], [], []
        self._tag = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._tag = (tag, attrs)
        self.tables += tag == "table"
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        for key in ("src", "href"):
            if key in attrs and tag != "img":
                self.refs.append(attrs[key])
        if tag in ("link", "script", "iframe"):
            self.refs.append(tag)

    def handle_data(self, data):
        tag, attrs = self._tag or ("", {})
        if tag == "h2":
            self.h2.append(data)
        elif tag == "div" and "alert" in attrs.get("class", ""):
            self.alerts.append(data)
        elif tag == "td":
            self.cells.append(data)


def _parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _key(e) -> tuple[str, str, str]:
    return (e.model, e.backend, e.precision)


def test_device_report_model_from_real_records(rec):
    report = build_device_report(rec.store, "local")
    assert [e.label for e in report.entries] == LABELS
    assert {(p.label, p.status, p.reason) for p in report.problems} == {
        ("edgeclip-s-scratch tflite int8", "failed", FAILED_REASON), ("edgeclip-s-scratch coreml int8", "skipped", SKIPPED_REASON)}
    assert {r.id for r in report.runs} == {rec.run_a, rec.run_problems, rec.run_empty}
    rows = {_key(j): j.record for j in rec.store.jobs(run_id=rec.run_a)}
    for e in report.entries:
        record: JobRecord = rows[_key(e)]
        lat = record.tower("image").latency
        assert lat.median == pytest.approx(MEDIAN_MS[(e.model, "image")] * FACTOR[e.backend] * FACTOR[e.precision] / 1e3, rel=1e-12)
        assert e.tower("image").latency_median_ms == pytest.approx(lat.median * 1e3)
        assert e.tower("image").latency_samples_ms == pytest.approx([s * 1e3 for s in lat.samples]) and len(lat.samples) == RUNS
        assert e.untrained == record.untrained == (e.model == UNTRAINED)
        assert e.flags() == (["untrained"] if e.untrained else [])
        assert e.recall == record.metrics
    assert report.teacher == "edgeclip-teacher"
    assert [(d.student, d.backend, d.precision) for d in report.distillation] == [(UNTRAINED, b, p) for b in BACKENDS for p in PRECISIONS]
    entries = {_key(e): e for e in report.entries}
    for d in report.distillation:
        teacher, student = (entries[(m, d.backend, d.precision)] for m in MODELS)
        assert d.speedup["image"] == pytest.approx(teacher.tower("image").latency_median_ms / student.tower("image").latency_median_ms)
        assert d.speedup["image"] == pytest.approx(MEDIAN_MS[("edgeclip-teacher", "image")] / MEDIAN_MS[(UNTRAINED, "image")])
        assert d.delta_recall["image_retrieval_recall@1"] == pytest.approx(
            student.recall["image_retrieval_recall@1"] - teacher.recall["image_retrieval_recall@1"])
    assert report.pareto_front and "no temperatures recorded" in " ".join(report.notes)


def test_html_is_one_self_contained_page_with_tables_and_plots(rec, tmp_path):
    path = write_report(rec.store, "local", ["html"], tmp_path)[0]
    page = _parse(path)
    assert page.tables >= 7 and len(page.images) == 3
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert [r for r in page.refs if not r.startswith("#")] == [], "external references"
    assert page.h2[:3] == ["Device", "Results", "Accuracy versus throughput"]
    assert page.h2[-1] == "Provenance" and "Failed and skipped jobs" in page.h2 and "Distillation" in page.h2
    assert FAILED_REASON in page.cells and SKIPPED_REASON in page.cells and "untrained" in page.cells
    assert list(tmp_path.iterdir()) == [path], "HTML writes one file"


def test_markdown_reads_as_plain_text(rec, tmp_path):
    paths = write_report(rec.store, "local", ["md"], tmp_path)
    md = paths[0].read_text()
    assert sorted(p.name for p in paths[1:]) == ["report-local-distillation.png", "report-local-latency.png", "report-local-pareto.png"]
    for name in re.findall(r"\]\(([^)]+\.png)\)", md):
        assert (tmp_path / name).is_file()
    assert not re.search(r"<[a-z]+[ >]", md), "no HTML in the Markdown"
    blocks = re.findall(r"(?:^\|.*\|\n)+", md, flags=re.M)
    assert len(blocks) >= 7
    for block in blocks:
        assert len({len(line) for line in block.splitlines()}) == 1, f"columns not aligned:\n{block}"
    prose = [line for line in md.splitlines() if not line.startswith("|")]
    assert max(len(line) for line in prose) <= 100
    assert "| untrained" in md and FAILED_REASON in md and "## Provenance" in md
    resources = next(b for b in blocks if "model MiB" in b).splitlines()
    assert [c.strip() for c in resources[0].strip("|").split("|")] == [
        "job", "img/s", "txt/s", "batch", "load ms", "model MiB", "peak MiB", "size MiB", "img GF/s", "img %ceil", "txt GF/s", "txt %ceil"]
    assert len(resources) == 2 + len(JOBS)


def test_json_follows_the_documented_schema(rec, tmp_path):
    path = write_report(rec.store, "local", ["json"], tmp_path)[0]
    data = json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    doc = (ROOT / "docs" / "report-schema.md").read_text()
    assert data["schema_version"] == 2 and data["status"] == "ok" and f"schema_version` | {data['schema_version']}" in doc
    result = data["results"][0]
    keys = list(data) + list(result) + list(result["towers"]["image"]) + list(data["device"]) + list(data["distillation"]["rows"][0])
    missing = sorted({k for k in keys if f"`{k}`" not in doc})
    assert not missing, f"undocumented fields: {missing}"
    for k in (1, 5, 10):
        assert f"image_retrieval_recall@{k}" in result["metrics"] and f"text_retrieval_recall@{k}" in result["metrics"]
    record: JobRecord = next(j.record for j in rec.store.jobs(run_id=rec.run_a) if j.id == result["job_id"])
    assert result["towers"]["text"]["latency_p99_ms"] == pytest.approx(record.tower("text").latency.p99 * 1e3)
    assert result["towers"]["image"]["throughput_items_per_s"] == record.tower("image").gallery.items_per_s
    assert result["towers"]["image"]["artifact_size_bytes"] == record.artifact_bytes("image")
    assert {p["status"] for p in data["problems"]} == {"failed", "skipped"}


def test_csv_has_one_flat_row_per_job(rec, tmp_path):
    path = write_report(rec.store, "local", ["csv"], tmp_path)[0]
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert [r["status"] for r in rows] == ["ok"] * len(JOBS) + ["failed", "skipped"]
    ok = {(r["model"], r["backend"], r["precision"]): r for r in rows if r["status"] == "ok"}
    report = build_device_report(rec.store, "local")
    for e in report.entries:
        assert float(ok[_key(e)]["image_latency_median_ms"]) == pytest.approx(e.tower("image").latency_median_ms)
        assert float(ok[_key(e)]["image_retrieval_recall@1"]) == pytest.approx(e.recall["image_retrieval_recall@1"])
    assert rows[-2]["reason"] == FAILED_REASON and rows[-1]["reason"] == SKIPPED_REASON


@pytest.mark.parametrize("which, status, says", [("run_empty", "empty", "no benchmark jobs"),
                                                 ("run_problems", "only-failed", "failed or was skipped")])
def test_a_report_without_figures_says_so_in_every_format(rec, tmp_path, which, status, says):
    paths = write_report(rec.store, "local", ["html", "md", "json", "csv"], tmp_path, runs=[getattr(rec, which)[:7]])
    by_suffix = {p.suffix: p for p in paths}
    assert json.loads(by_suffix[".json"].read_text())["status"] == status
    page = _parse(by_suffix[".html"])
    assert any(says in a for a in page.alerts) and page.images == []
    assert says in by_suffix[".md"].read_text()
    rows = list(csv.DictReader(io.StringIO(by_suffix[".csv"].read_text())))
    if status == "empty":
        assert rows[0]["status"] == "empty" and says in rows[0]["reason"]
    else:
        assert {r["status"] for r in rows} == {"failed", "skipped"}


def test_a_device_that_disagrees_with_the_host_is_flagged_first(rec, tmp_path):
    report = build_device_report(rec.store, "report-b")
    assert [e.label for e in report.entries if e.disagrees] == ["edgeclip-teacher tflite fp32"]
    bad = next(e for e in report.entries if e.disagrees)
    assert bad.host_recall and bad.job_id in {j.id for j in rec.store.jobs(run_id=rec.run_disagree)}
    assert report.alerts and "disagree" in report.alerts[0]
    page = _parse(write_report(rec.store, "report-b", ["html"], tmp_path)[0])
    assert page.h2[0] == "Read this first" and any("edgeclip-teacher tflite fp32" in a for a in page.alerts)
    assert "host recall, DISAGREES" in " ".join(page.cells)


def _stored_job(store: Store, run_id: str, model: str, backend: str, precision: str) -> tuple[str, dict]:
    """The id and record JSON of a run's only job of `model` `backend` `precision`, read from the SQLite file itself."""
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(store.path)) as db:
        rows = db.execute("SELECT id, record_json FROM jobs WHERE run_id = ? AND model = ? AND backend = ? AND precision = ?",
                          (run_id, model, backend, precision)).fetchall()
    assert len(rows) == 1, rows
    return rows[0][0], json.loads(rows[0][1])


def test_compare_two_devices_side_by_side(rec, tmp_path):
    report = build_compare_report(rec.store, ("local", "report-b"))
    assert [r.label for r in report.rows] == LABELS
    row = report.rows[0]
    assert (row.model, row.backend, row.precision, row.dataset) == (UNTRAINED, "executorch", "fp32", "synthetic")
    # by hand from the raw samples as stored (seconds), not through the report's entries or the stats module
    stored = {run: _stored_job(rec.store, run, UNTRAINED, "executorch", "fp32") for run in (rec.run_a, rec.run_b)}
    assert (row.a.job_id, row.b.job_id) == (stored[rec.run_a][0], stored[rec.run_b][0])
    for tower in ("image", "text"):
        a, b = (np.asarray(stored[run][1]["towers"][tower]["latency"]["samples"], dtype=np.float64) for run in (rec.run_a, rec.run_b))
        assert len(a) >= PLAN["protocol"].min_runs and len(b) >= PLAN["protocol"].min_runs
        r = b.mean() / a.mean()
        sd = r * np.sqrt((b.std(ddof=1) / b.mean()) ** 2 + (a.std(ddof=1) / a.mean()) ** 2)
        assert row.latency_ratio[tower] == pytest.approx((r, sd), rel=1e-9), tower
        assert r == pytest.approx(FACTOR["report-b"], rel=1e-9)  # the script's samples are symmetric about its median
    paths = write_report(rec.store, "local", ["html", "json", "csv", "md"], tmp_path, compare="report-b")
    data = json.loads(next(p for p in paths if p.suffix == ".json").read_text())
    assert data["kind"] == "edge-bench.compare-report" and len(data["rows"]) == len(JOBS)
    page = _parse(next(p for p in paths if p.suffix == ".html"))
    assert page.tables >= 3 and len(page.images) == 1 and any("report-b" in a for a in page.alerts)
    assert len(list(csv.DictReader(io.StringIO(next(p for p in paths if p.suffix == ".csv").read_text())))) == len(JOBS)


def test_one_job_on_two_datasets_is_two_rows_and_compare_pairs_only_the_same_dataset(tmp_path, monkeypatch, session_home):
    """Flickr30k (Karpathy format) and synthetic results of one model, backend and precision on `local` are two rows,
    each naming its dataset; `report --compare` pairs report-b's Flickr30k job with local's Flickr30k job, not with
    local's newer synthetic one (the bug: a Flickr30k job beside a synthetic job in one row)."""
    from edge_bench.cli import main

    home = tmp_path / "home"
    home.mkdir()
    _home(home, session_home)
    monkeypatch.setenv("EDGE_BENCH_HOME", str(home))
    data_dir = write_karpathy(tmp_path / "flickr30k", "flickr30k", splits={"train": 2, "val": 2, "test": 8})
    synthetic = {**PLAN, "models": (UNTRAINED,), "backends": ("tflite",), "precisions": ("fp32",)}
    flickr = {**synthetic, "dataset": "flickr30k", "data_dir": str(data_dir), "n_images": None}
    store = Store()
    outcomes = {}
    for name, device, plan in (("a flickr30k", "local", flickr), ("a synthetic", "local", synthetic),  # the newest of local
                               ("b flickr30k", "report-b", flickr)):
        outcome = run(store, RunPlan(device=device, **plan), script(device))
        assert outcome.status == "complete" and len(outcome.job_rows) == 1, outcome
        outcomes[name] = outcome.job_rows[0]
    label = f"{UNTRAINED} tflite fp32"

    report = build_device_report(store, "local")
    assert [(e.label, e.dataset, e.n_images, e.n_captions, e.job_id) for e in report.entries] == [
        (label, "flickr30k", 8, 40, outcomes["a flickr30k"]), (label, "synthetic", 20, 100, outcomes["a synthetic"])]
    assert "jobs were measured on different test sets (flickr30k (8 images); synthetic (20 images))" in report.notes[0]
    paths = {p.suffix: p for p in write_report(store, "local", ["md", "json", "csv"], tmp_path / "device")}
    md = paths[".md"].read_text()
    latency = next(b for b in re.findall(r"(?:^\|.*\|\n)+", md, flags=re.M) if "img p99" in b).splitlines()[2:]
    assert [line.split("|")[1].strip() for line in latency] == [f"{label} [flickr30k]", f"{label} [synthetic]"]
    assert [(r["dataset"], r["job_id"]) for r in json.loads(paths[".json"].read_text())["results"]] == [
        ("flickr30k", outcomes["a flickr30k"]), ("synthetic", outcomes["a synthetic"])]
    assert [(r["dataset"], r["job_id"]) for r in csv.DictReader(io.StringIO(paths[".csv"].read_text()))] == [
        ("flickr30k", outcomes["a flickr30k"]), ("synthetic", outcomes["a synthetic"])]

    compared = build_compare_report(store, ("local", "report-b"))
    assert [(r.dataset, r.a.job_id, r.b.job_id) for r in compared.rows] == [
        ("flickr30k", outcomes["a flickr30k"], outcomes["b flickr30k"])]
    assert (compared.only_a, compared.only_b) == ([f"{label} [synthetic]"], [])
    out = tmp_path / "compare"
    assert main(["report", "--compare", "local", "report-b", "-f", "json,md", "-o", str(out)]) == 0
    data = json.loads((out / "compare-local-vs-report-b.json").read_text())
    assert [(r["dataset"], r["a"]["job_id"], r["a"]["dataset"], r["b"]["job_id"], r["b"]["dataset"]) for r in data["rows"]] == [
        ("flickr30k", outcomes["a flickr30k"], "flickr30k", outcomes["b flickr30k"], "flickr30k")]
    assert (data["only_a"], data["only_b"]) == ([f"{label} [synthetic]"], [])
    assert data["rows"][0]["latency_ratio_b_over_a"]["image"]["mean"] == pytest.approx(FACTOR["report-b"], rel=1e-9)
    md = (out / "compare-local-vs-report-b.md").read_text()
    side = next(b for b in re.findall(r"(?:^\|.*\|\n)+", md, flags=re.M) if "img B/A" in b).splitlines()[2:]
    assert [line.split("|")[1].strip() for line in side] == [f"{label} [flickr30k]"]
    assert f"Only on local: {label} [synthetic]." in md


def test_teacher_option_and_errors(rec, tmp_path):
    report = build_device_report(rec.store, "local", teacher="edgeclip-s-scratch")
    assert report.teacher == "edgeclip-s-scratch" and {d.student for d in report.distillation} == {"edgeclip-teacher"}
    assert len(report.distillation) == len(BACKENDS) * len(PRECISIONS)
    with pytest.raises(ConfigError, match="has no successful job"):
        build_device_report(rec.store, "local", teacher="ViT-B-32")
    with pytest.raises(ConfigError, match="unknown device"):
        build_device_report(rec.store, "no-such-device")
    with pytest.raises(StoreError, match="no run"):
        build_device_report(rec.store, "local", runs=["rnope"])
    with pytest.raises(ConfigError, match="ran on 'report-b'"):
        build_device_report(rec.store, "local", runs=[rec.run_b])


def test_report_can_be_written_from_a_worker_thread(rec, tmp_path):
    """The TUI's Export screen calls write_report off its event loop."""
    out: list = []
    worker = threading.Thread(target=lambda: out.extend(write_report(rec.store, "local", ["html", "md"], tmp_path)))
    worker.start()
    worker.join(120)
    assert [p.suffix for p in out] == [".html", ".md", ".png", ".png", ".png"]


def test_cli_report_and_one_line_errors(rec, tmp_path, capsys):
    from edge_bench.cli import main

    assert main(["report", "--device", "local", "-f", "all", "-o", str(tmp_path / "r")]) == 0
    assert sorted(p.suffix for p in (tmp_path / "r").iterdir()) == [".csv", ".html", ".json", ".md", ".png", ".png", ".png"]
    assert main(["report", "--compare", "local", "report-b", "-f", "md", "-o", str(tmp_path / "c")]) == 0
    assert (tmp_path / "c" / "compare-local-vs-report-b.md").is_file()
    capsys.readouterr()
    for argv in (["--device", "nowhere"], ["--device", "local", "--runs", "rnope"], ["--device", "local", "-f", "pdf"],
                 ["--device", "local", "--compare", "local", "report-b"]):
        assert main(["report", *argv, "-o", str(tmp_path / "x")]) == 1
        err = capsys.readouterr().err
        assert err.startswith("edge-bench: error: ") and err.count("\n") == 1, err


def test_html_renders_in_headless_chromium(rec, tmp_path):
    from PIL import Image

    from edge_bench.report.screenshot import find_browser, screenshot

    if find_browser() is None:
        pytest.skip("no chromium on PATH (apt-get install -y chromium) to render the HTML report")
    html = write_report(rec.store, "local", ["html"], tmp_path)[0]
    png = screenshot(html, tmp_path / "page.png", width=1280, height=2400)
    image = np.asarray(Image.open(png).convert("L"))
    assert image.shape == (2400, 1280)
    assert (image < 128).mean() > 0.01, "the page rendered (mostly) blank"
    top = image[:120]
    assert (top < 128).any(), "the title is missing at the top"
