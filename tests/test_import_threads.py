"""Two TUI workers importing the converters package at the same moment from different threads.

The Plan screen starts two thread workers at once: its loader runs
`from edge_bench.converters import get_converter, list_backends` and its
converted-sets worker (edge_bench.tui.artifacts) runs
`from edge_bench.converters.artifact import read_manifest`. Importing a submodule by
its full name takes the submodule's import lock and then imports its package; had
the package's __init__ imported that submodule, the two threads would wait on each
other's lock and one of them would get `_DeadlockError` (seen once under load in
test_tui_screens). tests/test_import_cycles.py cannot see this cycle: the edge from a
submodule to its package is implicit, in no import statement.

A fresh interpreter imports the two (and the Devices screen's fingerprint worker's
`edge_bench.converters.base`) from threads started together, many rounds, forgetting
the converters modules between rounds, with a tiny thread switch interval so the
threads interleave inside the import machinery; with the package's old eager
__init__ 11 to 17 of the 60 rounds raised.
"""

from __future__ import annotations

import json
import subprocess
import sys

ROUNDS = 60

SCRIPT = r"""
import json, sys, threading
import edge_bench, edge_bench.errors, edge_bench.data, edge_bench.models, edge_bench.metrics.fidelity, numpy  # noqa: E401

STATEMENTS = [
    "from edge_bench.converters import get_converter, list_backends",  # the Plan screen's loader
    "from edge_bench.converters.artifact import read_manifest",  # its converted-sets worker
    "from edge_bench.converters.base import check_precision",  # the Devices screen's fingerprint worker
]
rounds = int(sys.argv[1])
sys.setswitchinterval(1e-6)
errors, done = [], 0
for _ in range(rounds):
    for name in [m for m in sys.modules if m == "edge_bench.converters" or m.startswith("edge_bench.converters.")]:
        del sys.modules[name]
    edge_bench.__dict__.pop("converters", None)
    barrier = threading.Barrier(len(STATEMENTS))

    def run(statement):
        barrier.wait()
        try:
            exec(statement, {})
        except BaseException as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=run, args=(s,)) for s in STATEMENTS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done += 1
print(json.dumps({"rounds": done, "errors": errors}))
"""


def test_converters_imported_from_threads_at_once_never_deadlock():
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(ROUNDS)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["rounds"] == ROUNDS
    assert out["errors"] == [], f"{len(out['errors'])} of {ROUNDS} rounds failed, e.g. {out['errors'][0]}"


def test_the_package_imports_no_submodule_until_a_name_is_used():
    code = ("import sys, edge_bench.converters as c\n"
            "before = sorted(m for m in sys.modules if m.startswith('edge_bench.converters.'))\n"
            "from edge_bench.converters import convert, get_converter\n"
            "print(before, convert.__module__, get_converter.__module__, c.ArtifactSet.__module__, sorted(c.__all__) == sorted(set(dir(c)) & set(c.__all__)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["[]", "edge_bench.converters.pipeline", "edge_bench.converters.base", "edge_bench.converters.artifact", "True"]
