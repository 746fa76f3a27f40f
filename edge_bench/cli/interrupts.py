"""Ctrl-C (and SIGTERM) that cannot be lost: it sets the run's cancel flag as well as raising KeyboardInterrupt.

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


SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""Ctrl-C, and the polite kill of a service manager or CI runner: both end the run the same orderly way."""


@contextmanager
def ctrl_c_sets(cancel: threading.Event) -> Iterator[threading.Event]:
    """While inside, SIGINT or SIGTERM sets `cancel` and raises KeyboardInterrupt; the previous handlers come back on exit.

    SIGTERM's default would end Python at once: no `finally`, the run left
    marked running, an adb device's runner left going. Handled like Ctrl-C,
    the run ends interrupted and the command exits 130.
    Off the main thread (where Python cannot install handlers) it changes nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield cancel
        return

    def on_signal(signum, frame):  # noqa: ARG001  (the signature is the signal module's)
        cancel.set()
        raise KeyboardInterrupt

    previous = {number: signal.signal(number, on_signal) for number in SIGNALS}
    try:
        yield cancel
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
