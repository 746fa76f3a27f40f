"""Two workers importing a package and one of its submodules at the same moment from different threads.

The Plan screen starts two thread workers at once: its loader runs
`from edge_bench.converters import get_converter, list_backends` and its
converted-sets worker (edge_bench.tui.artifacts) runs
`from edge_bench.converters.artifact import read_manifest`. Importing a submodule by
its full name takes the submodule's import lock and then imports its package; had
the package's __init__ imported that submodule, the two threads would wait on each
other's lock and one of them would get `_DeadlockError` (seen once under load in
test_tui_screens). tests/test_import_cycles.py cannot see this cycle: the edge from a
submodule to its package is implicit, in no import statement.

The TUI, the lab (a thread per device) and the runner import edge_bench.models,
.metrics, .data, .report, .store and .devices from worker threads the same way, so
each of those packages' names load on first use too (PEP 562 __getattr__), and each
is tried here against the submodules its old eager __init__ imported.

A fresh interpreter imports a package's statements from threads started together,
many rounds, forgetting that package's modules between rounds, with a tiny thread
switch interval so the threads interleave inside the import machinery; with the
converters package's old eager __init__ 11 to 17 of the 60 rounds raised, and with
the other packages' old ones each package failed some of its 25 rounds (two threads
per statement), so the test as a whole failed every time it was tried.
"""

from __future__ import annotations

import json
import subprocess
import sys

ROUNDS = 60
PACKAGE_ROUNDS = 25
COPIES = 2  # threads per statement: more threads in the locks, more rounds that would deadlock

# per package: its public names (what `from edge_bench.X import ...` workers run) and
# submodules by their full names, among them one its old __init__ imported
STATEMENTS = {
    "converters": [
        "from edge_bench.converters import get_converter, list_backends",  # the Plan screen's loader
        "from edge_bench.converters.artifact import read_manifest",  # its converted-sets worker
        "from edge_bench.converters.base import check_precision",  # the Devices screen's fingerprint worker
    ],
    "models": [
        "from edge_bench.models import create_model, get_spec",
        "from edge_bench.models.registry import list_models",
    ],
    "metrics": [
        "from edge_bench.metrics import retrieval_recall",
        "from edge_bench.metrics.recall import DEFAULT_KS",
    ],
    "data": [
        "from edge_bench.data import load_dataset",
        "from edge_bench.data.dataset import RetrievalSet",
        "from edge_bench.data.preprocess import normalize",
    ],
    "report": [
        "from edge_bench.report import write_report",
        "from edge_bench.report.build import build_device_report",
    ],
    "store": [
        "from edge_bench.store import Store",
        "from edge_bench.store.db import now",
    ],
    "devices": [
        "from edge_bench.devices import load_profile, open_transport",
        "from edge_bench.devices.loader import user_profiles_dir",
        "from edge_bench.devices.probe import probe_all",
    ],
}

RACE = """CPython 3.11's own race, not a deadlock: on a package's very first import, a thread importing a submodule
by its full name can find the parent missing from sys.modules while another thread still initialises it, and
raises KeyError(package) (seen in about 1 round of 60, one run in 8, with the packages' old and new __init__s
alike). The rounds count it apart; a _DeadlockError or any other error fails the test."""
SCRIPT = r"""
import json, sys, threading
import edge_bench, edge_bench.errors, numpy  # noqa: E401

cases, rounds, copies = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
for statements in cases.values():  # everything the statements need, imported once beforehand
    for statement in statements:
        exec(statement, {})
sys.setswitchinterval(1e-6)
out = {}
for package, statements in cases.items():
    prefix = f"edge_bench.{package}"
    errors, done = [], 0
    for _ in range(rounds):
        for name in [m for m in sys.modules if m == prefix or m.startswith(prefix + ".")]:
            del sys.modules[name]
        edge_bench.__dict__.pop(package, None)
        barrier = threading.Barrier(len(statements) * copies)

        def run(statement):
            barrier.wait()
            try:
                exec(statement, {})
            except BaseException as exc:  # the deadlock this file is about; see RACE for the one error left out
                if not (isinstance(exc, KeyError) and exc.args == (prefix,)):
                    errors.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=run, args=(s,)) for s in statements for _ in range(copies)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        done += 1
    out[package] = {"rounds": done, "errors": errors}
print(json.dumps(out))
"""


def _rounds(packages: list[str], rounds: int, copies: int = 1) -> dict:
    cases = json.dumps({p: STATEMENTS[p] for p in packages})
    proc = subprocess.run([sys.executable, "-c", SCRIPT, cases, str(rounds), str(copies)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_converters_imported_from_threads_at_once_never_deadlock():
    out = _rounds(["converters"], ROUNDS)["converters"]
    assert out["rounds"] == ROUNDS
    assert out["errors"] == [], f"{len(out['errors'])} of {ROUNDS} rounds failed, e.g. {out['errors'][0]}"


def test_packages_imported_with_their_submodules_from_threads_at_once_never_deadlock():
    packages = [p for p in STATEMENTS if p != "converters"]
    out = _rounds(packages, PACKAGE_ROUNDS, COPIES)
    assert {p: out[p]["rounds"] for p in packages} == dict.fromkeys(packages, PACKAGE_ROUNDS)
    failed = [f"{p}: {len(o['errors'])} of {PACKAGE_ROUNDS} rounds failed, e.g. {o['errors'][0]}" for p, o in out.items() if o["errors"]]
    assert not failed, "\n".join(failed)


def test_the_package_imports_no_submodule_until_a_name_is_used():
    code = ("import sys, edge_bench.converters as c\n"
            "before = sorted(m for m in sys.modules if m.startswith('edge_bench.converters.'))\n"
            "from edge_bench.converters import convert, get_converter\n"
            "print(before, convert.__module__, get_converter.__module__, c.ArtifactSet.__module__, sorted(c.__all__) == sorted(set(dir(c)) & set(c.__all__)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["[]", "edge_bench.converters.pipeline", "edge_bench.converters.base", "edge_bench.converters.artifact", "True"]


def test_the_other_packages_import_no_submodule_until_a_name_is_used():
    code = ("import importlib, json, sys\n"
            "packages = {p: importlib.import_module(f'edge_bench.{p}') for p in sys.argv[1:]}\n"
            "out = {p: [sorted(m for m in sys.modules if m.startswith(f'edge_bench.{p}.'))] for p in packages}\n"
            "for p, module in packages.items():\n"
            "    names = {}\n"
            "    exec(f'from edge_bench.{p} import *', names)\n"
            "    out[p] += [sorted(set(module.__all__) - set(names)), set(module.__all__) <= set(dir(module))]\n"
            "print(json.dumps(out))")
    packages = [p for p in STATEMENTS if p != "converters"]
    proc = subprocess.run([sys.executable, "-c", code, *packages], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {p: [[], [], True] for p in packages}
