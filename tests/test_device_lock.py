"""The device lock inside one process: threads that take it at the same moment (a lab's devices on one host)
share it, none waits on a flock its own process holds."""

from __future__ import annotations

import fcntl
import threading
import time

from edge_bench.devices import lock as device_lock


def test_threads_taking_one_device_lock_at_once_all_share_it(monkeypatch):
    real_flock = fcntl.flock

    def slow_flock(fd, operation):  # the first taker is still inside flock when the others ask
        time.sleep(0.3)
        return real_flock(fd, operation)

    monkeypatch.setattr(device_lock.fcntl, "flock", slow_flock)
    locks = [device_lock.DeviceLock("local:test-race", f"bench-{i}") for i in range(4)]
    barrier, errors = threading.Barrier(len(locks)), []

    def take(one):
        barrier.wait(10)
        try:
            one.acquire(wait=1.0)
        except Exception as exc:  # noqa: BLE001  (collected for the assertion)
            errors.append(exc)

    threads = [threading.Thread(target=take, args=(one,)) for one in locks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    try:
        assert errors == [] and all(one._mine for one in locks)
    finally:
        for one in locks:
            one.release()
    assert str(device_lock.lock_path("local:test-race")) not in device_lock._held  # the last release let go
