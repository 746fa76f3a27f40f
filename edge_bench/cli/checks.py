"""Before and after a run: the plan checked once before any job starts, the exit status, the JSON summary.

`validate_plan` finds every problem of a plan at once (unknown model, backend,
precision, dataset or device profile; a missing data folder or Karpathy file;
no calibration split) and raises one PlanError listing each on its own line,
before anything is stored. `exit_code` maps a run's outcome to the exit
status `edge-bench run` documents; `run_summary` is what `--json FILE` writes.
"""

from __future__ import annotations

import difflib
import functools
from typing import Callable

from edge_bench.errors import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    ConfigError,
    DataError,
    ModelError,
    PlanError,
)

ALL = "all"

EXIT_CODES_HELP = (
    "Exit status:\n\n"
    "0  every job ran and none failed (jobs the device cannot run are skipped, not failed)\n\n"
    "1  some job failed, the device could not be reached or used, or every job was skipped\n\n"
    "2  bad input, found before anything ran or was stored: an unknown model, backend, precision, dataset "
    "or device profile, a missing --data-dir or Karpathy file, a bad option\n\n"
    "130  interrupted (Ctrl-C or SIGTERM)"
)
"""The exit codes, as `edge-bench run --help` shows them."""


def closest(name: str, choices: list[str], n: int = 3) -> list[str]:
    """Up to n choices most like `name`, case-insensitively (difflib)."""
    lowered = {c.lower(): c for c in choices}
    return [lowered[m] for m in difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.4)]


def _suggest(name: str, choices: list[str], what: str) -> str:
    near = closest(name, choices)
    if near:
        return f"closest {what}: {', '.join(near)}"
    return f"{what}: {', '.join(choices)}"


def model_problems(models) -> list[str]:
    """One line per model that is not in the zoo, or whose Python packages are missing."""
    import importlib.util

    from edge_bench.models.registry import get_spec, list_models

    names = list_models()
    problems = []
    for model in models:
        if model not in names:
            problems.append(f"unknown model {model!r} ({_suggest(model, names, 'registered names')}; "
                            "`edge-bench models` lists them)")
            continue
        missing = [m for m in get_spec(model).requires if importlib.util.find_spec(m) is None]
        if missing:
            problems.append(f"model {model!r} needs the Python package(s) {', '.join(missing)} "
                            "(pip install 'edge-bench[models]')")
    return problems


def backend_problems(backends) -> list[str]:
    """One line per backend name no converter is registered for."""
    from edge_bench.converters import list_backends

    known = list_backends()
    return [f"unknown backend {b!r} ({_suggest(b, known, 'backends')})" for b in backends if b not in known]


def precision_problems(precisions) -> list[str]:
    """One line per precision name that is not fp32, fp16, int8-dynamic, int8 or all."""
    from edge_bench.converters import PRECISIONS

    known = [*PRECISIONS, ALL]
    return [f"unknown precision {p!r} ({_suggest(p, known, 'precisions')})" for p in precisions if p not in known]


def dataset_problems(dataset: str, data_dir: str | None, n_images: int | None) -> list[str]:
    """The dataset's test split loads, and calibration inputs exist that the run does not score."""
    from edge_bench.data import DATASETS, load_dataset
    from edge_bench.data.calibration import CALIBRATION_IMAGES, calibration_set

    if dataset not in DATASETS:
        return [f"unknown dataset {dataset!r} ({_suggest(dataset, list(DATASETS), 'datasets')})"]
    if dataset == "synthetic":
        return []  # built in: every split exists
    if not data_dir:
        return [f"{dataset} needs --data-dir (a folder with the Karpathy JSON and the images)"]
    try:
        load_dataset(dataset, "test", data_dir=data_dir, n_images=n_images)
        calibration_set(dataset, data_dir, CALIBRATION_IMAGES, scored_images=n_images)
    except (DataError, ConfigError) as exc:
        return [exc.one_line()]
    return []


def device_problems(device: str) -> list[str]:
    """The device profile exists and reads cleanly (whether the device answers is the run's first step)."""
    from edge_bench.devices import load_profile

    try:
        load_profile(device)
    except ConfigError as exc:
        return [exc.one_line()]
    return []


def validate_plan(plan) -> None:
    """Check a RunPlan's models, backends, precisions, dataset and device; one PlanError listing every problem."""
    problems = [
        *model_problems(plan.models),
        *backend_problems(plan.backends),
        *precision_problems(plan.precisions),
        *dataset_problems(plan.dataset, plan.data_dir, plan.n_images),
        *device_problems(plan.device),
    ]
    if problems:
        raise PlanError(problems)


def writable_file(path, option: str) -> None:
    """A file an option names can be written (its folder exists), checked before a run spends time."""
    from pathlib import Path

    if path is not None and not Path(path).expanduser().parent.is_dir():
        raise ConfigError(f"{option} {path}: no folder {Path(path).expanduser().parent}")


def bad_input_exits(command: Callable) -> Callable:
    """Make a command's bad-input errors (ConfigError, ModelError, DataError) exit with status 2.

    The runner records what goes wrong inside a job as a failed job, so such an
    error reaching the command was found before any job ran.
    """

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (ConfigError, ModelError, DataError) as exc:
            exc.exit_code = EXIT_BAD_INPUT
            raise

    return wrapper


def exit_code(outcome) -> int:
    """A run's exit status: 130 cancelled, 1 some job failed or nothing ran, else 0."""
    counts = outcome.counts or {}
    if outcome.status == "cancelled" or counts.get("cancelled"):
        return EXIT_INTERRUPTED
    if counts.get("failed"):
        return EXIT_FAILED
    if not (counts.get("ok") or counts.get("done before")):
        return EXIT_FAILED  # every job was skipped: nothing was measured
    return EXIT_OK


def _job_summary(row) -> dict:
    """One job's headline figures, read from its typed record (the one place that reads it)."""
    from edge_bench.records.job import JobRecord

    record = row.record if isinstance(row.record, JobRecord) else JobRecord.from_json(row.record)
    out = {"job_id": row.id, "key": row.job_key, "model": row.model, "backend": row.backend,
           "precision": row.precision, "dataset": row.dataset, "status": row.status,
           "reason": row.error or record.reason}
    for tower in ("image", "text"):
        out[f"{tower}_median_ms"] = record.median_ms(tower)
        out[f"{tower}_items_per_s"] = record.items_per_s(tower)
    out["image_retrieval_recall@1"] = record.recall("image", 1)  # text -> image
    out["text_retrieval_recall@1"] = record.recall("text", 1)  # image -> text
    return out


def run_summary(outcome, rows, device: str | None = None) -> dict:
    """What `edge-bench run --json FILE` writes: the run, its counts, and per job the headline figures.

    `rows` are the store's job rows of the run; a job attempted more than once
    (--resume) is summarised by its newest row.
    """
    newest: dict = {}
    for row in rows:
        newest.pop(row.job_key, None)
        newest[row.job_key] = row
    jobs = [_job_summary(row) for row in newest.values()]
    if device is None and rows:
        device = rows[0].device
    return {
        "schema": 1,
        "run_id": outcome.run_id,
        "device": device,
        "status": outcome.status,
        "exit_code": exit_code(outcome),
        "counts": dict(outcome.counts or {}),
        "jobs": jobs,
    }

