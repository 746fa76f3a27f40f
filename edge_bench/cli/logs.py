"""Third-party output off the terminal: file descriptors 1 and 2 into a log file.

Converters and runtimes print from C++ (oneDNN, absl, XNNPACK, cpuinfo,
TensorFlow) straight to file descriptors 1 and 2, and from Python (tqdm bars
of ai-edge-quantizer, warnings, logging) to `sys.stdout` / `sys.stderr`.
Redirecting Python's streams cannot catch the first kind, so `OutputLog`
points the descriptors themselves at a log file with `os.dup2` for as long as
the noisy work runs, while the CLI's own consoles write to saved copies of the
original descriptors. Everything is put back on exit, error or Ctrl-C.

A run's log lives in the run's folder, `<data dir>/runs/<run id>/run.log`
(`run-2.log`, ... for resumed attempts); a log written before a run has an id
(or by `convert`) lives in `<data dir>/logs/`.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from edge_bench import paths

STREAMS = (1, 2)
"""The descriptors redirected: stdout and stderr."""


def run_dir(run_id: str) -> Path:
    """The folder of one run under the user's data dir (its log files)."""
    return paths.data_dir() / "runs" / run_id


def run_log_path(run_id: str) -> Path:
    """A new log file in the run's folder: run.log, or run-2.log, ... when a resumed run has one already."""
    folder = run_dir(run_id)
    path, n = folder / "run.log", 1
    while path.exists():
        n += 1
        path = folder / f"run-{n}.log"
    return path


def new_log_path(command: str) -> Path:
    """A log file for a command that has no run folder (yet): <data dir>/logs/<command>-<UTC time>-<pid>.log."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return paths.data_dir() / "logs" / f"{command}-{stamp}-{os.getpid()}.log"


def _flush_c_stdio() -> None:
    """Flush C stdio buffers (a C library's printf to a file is block-buffered) into the log, before it is unhooked."""
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except Exception:  # no libc to speak to: nothing buffered there that we can reach
        pass


def _fileno(stream) -> int | None:
    try:
        return stream.fileno()
    except Exception:  # pytest's capture, StringIO, None
        return None


class OutputLog:
    """A context manager: while inside, fds 1 and 2 go to `path`; the given consoles keep the real ones.

    `consoles` are rich Consoles (default: the CLI's console and err_console).
    A console that writes to stdout or stderr is pointed at a saved copy of
    that descriptor, so the CLI's own lines still reach the terminal (or the
    pipe) while anything else written to the descriptors lands in the log.
    """

    def __init__(self, path: Path, consoles: tuple | None = None, title: str = "") -> None:
        if consoles is None:
            from edge_bench.cli.ui import console, err_console

            consoles = (console, err_console)
        self.path = Path(path)
        self.consoles = consoles
        self.title = title
        self.active = False
        self._saved: dict[int, int] = {}
        self._streams: dict[int, object] = {}
        self._console_files: list[tuple[object, object]] = []
        self._sys: tuple = (None, None)
        self._wrappers: tuple = ()

    def __enter__(self) -> "OutputLog":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        log_fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            started = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
            os.write(log_fd, f"# edge-bench {self.title} output of other programs and libraries, {started}\n".encode())
            for fd in STREAMS:
                self._saved[fd] = os.dup(fd)
        except OSError:  # a closed descriptor: nothing to redirect
            for saved in self._saved.values():
                os.close(saved)
            self._saved.clear()
            os.close(log_fd)
            return self
        for console in self.consoles:
            current = console.file
            fd = _fileno(current)
            self._console_files.append((console, console._file))
            # a console on fd 1 or 2 keeps the original through a saved copy; any other stays where it writes now
            console.file = self._stream(fd) if fd in self._saved else current
        for fd in STREAMS:
            os.dup2(log_fd, fd)
        os.close(log_fd)
        # Python-level writers (tqdm, warnings, print, logging) reach the log even when sys.stdout / sys.stderr
        # are not the descriptors themselves (pytest's capture, an embedding program)
        self._sys = (sys.stdout, sys.stderr)
        self._wrappers = tuple(os.fdopen(fd, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
                               for fd in STREAMS)
        sys.stdout, sys.stderr = self._wrappers
        self.active = True
        return self

    def _stream(self, fd: int):
        if fd not in self._streams:
            original = sys.stdout if fd == 1 else sys.stderr
            encoding = getattr(original, "encoding", None) or "utf-8"
            self._streams[fd] = os.fdopen(self._saved[fd], "w", buffering=1, encoding=encoding, errors="replace",
                                          closefd=False)
        return self._streams[fd]

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self.active:
            return
        self._restore()
        if exc_type is not None:  # the run stopped early: keep a log that holds something, and say where
            try:
                if self.path.read_bytes().count(b"\n") <= 1:
                    self.path.unlink()
                else:
                    print(f"edge-bench: output of other programs: {self.path}", file=sys.stderr)
            except OSError:
                pass

    def _restore(self) -> None:
        for stream in (*self._wrappers, *self._sys):
            try:
                if stream is not None:
                    stream.flush()
            except Exception:  # a broken pipe is not this context's business
                pass
        sys.stdout, sys.stderr = self._sys
        for stream in self._wrappers:
            try:
                stream.close()  # our wrappers of fds 1 and 2 (closefd=False: the descriptors stay)
            except Exception:
                pass
        self._wrappers = ()
        _flush_c_stdio()
        for stream in self._streams.values():
            try:
                stream.flush()
            except Exception:
                pass
        for fd, saved in self._saved.items():
            os.dup2(saved, fd)
        for console, previous in self._console_files:
            console.file = previous
        for stream in self._streams.values():
            try:
                stream.close()
            except Exception:
                pass
        for saved in self._saved.values():
            os.close(saved)
        self._saved.clear()
        self._streams.clear()
        self._console_files.clear()
        self.active = False

    def move_to(self, path: Path) -> Path:
        """Move the log (open or not) to `path`; it keeps receiving output there."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path, path)
        self.path = path
        return path
