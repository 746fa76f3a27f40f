"""Ctrl-C that cannot be lost: it sets the run's cancel flag as well as raising KeyboardInterrupt.

Python turns SIGINT into a KeyboardInterrupt at the next bytecode of the
main thread. Inside a conversion that is often C++ (torch.export, MLIR,
XNNPACK) that checks for signals and clears the error it finds, or runs the
interrupted Python through pybind11 and wraps what it raised: the interrupt
vanishes and the run goes on as if nothing was pressed (seen: exit 0 after a
Ctrl-C during a LiteRT conversion). With the flag set too, the running tower
is stopped, no later job starts, the run ends cancelled and the command exits
130, whatever the toolchain did with the exception.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def ctrl_c_sets(cancel: threading.Event) -> Iterator[threading.Event]:
    """While inside, SIGINT sets `cancel` and raises KeyboardInterrupt; the previous handler comes back on exit.

    Off the main thread (where Python cannot install handlers) it changes nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield cancel
        return

    def on_sigint(signum, frame):  # noqa: ARG001  (the signature is the signal module's)
        cancel.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield cancel
    finally:
        signal.signal(signal.SIGINT, previous)
