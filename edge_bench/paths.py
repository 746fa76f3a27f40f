"""Where edge-bench keeps its files: data (the results store), cache, config.

`EDGE_BENCH_HOME` moves all three under one folder (the tests point it at a
temporary directory); otherwise the platform's user directories are used.
"""

from __future__ import annotations

import os
from pathlib import Path

APP = "edge-bench"


def _home() -> Path | None:
    value = os.environ.get("EDGE_BENCH_HOME")
    return Path(value).expanduser() if value else None


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """The folder of the results store."""
    home = _home()
    if home:
        return _ensure(home / "data")
    import platformdirs

    return _ensure(Path(platformdirs.user_data_dir(APP)))


def cache_dir() -> Path:
    """The folder of caches: preprocessed tensors, datasets, artifacts."""
    home = _home()
    if home:
        return _ensure(home / "cache")
    import platformdirs

    return _ensure(Path(platformdirs.user_cache_dir(APP)))


def config_dir() -> Path:
    """The folder of the user's own device profiles and settings."""
    home = _home()
    if home:
        return _ensure(home / "config")
    import platformdirs

    return _ensure(Path(platformdirs.user_config_dir(APP)))


def partial_path(path: Path) -> Path:
    """A hidden name beside `path` for writing it before an atomic `replace`: unique per process and thread.

    Two edge-bench processes (or two devices of one lab run) filling one cache
    never write the same temporary file; the suffix is kept, so `np.save` and
    the converters see the name they expect.
    """
    import threading

    return path.with_name(f".{path.stem}.{os.getpid()}-{threading.get_ident()}.tmp{path.suffix}")
