"""Ctrl-C during `edge-bench run` sets the run's cancel flag as well as raising KeyboardInterrupt, so a toolchain
that swallows the exception (C++ clearing Python's error, pybind11 wrapping it) cannot lose the interrupt."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from edge_bench.cli.interrupts import ctrl_c_sets


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_a_swallowed_ctrl_c_or_sigterm_leaves_the_cancel_flag_set_and_the_handler_is_restored(number):
    before = signal.getsignal(number)
    with ctrl_c_sets(threading.Event()) as cancel:
        try:
            os.kill(os.getpid(), number)
            for _ in range(1000):  # the handler runs at the next bytecode boundary
                pass
        except KeyboardInterrupt:
            pass  # what a toolchain that swallows it does
        assert cancel.is_set()
    assert signal.getsignal(number) is before


def test_off_the_main_thread_it_changes_nothing():
    seen = {}

    def worker():
        with ctrl_c_sets(threading.Event()) as cancel:
            seen["handler"] = signal.getsignal(signal.SIGINT)
            seen["cancel"] = cancel.is_set()

    before = signal.getsignal(signal.SIGINT)
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(10)
    assert seen == {"handler": before, "cancel": False}
