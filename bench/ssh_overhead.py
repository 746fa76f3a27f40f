"""Per-command overhead of the ssh transport on loopback, with and without ControlMaster.

Starts a throwaway sshd on 127.0.0.1 (tests/sshd.py, needs root and openssh-server),
then times `run(["true"])` through SshTransport with a shared connection and with
a new connection per command, plus the local transport and a push/pull of 16 MiB.
Each remote command starts the user's login shell; bash run by sshd sources
~/.bashrc, which on some machines costs more than ssh itself (pyenv init), so the
figures are taken twice: with the rc file, and with `SetEnv SHLVL=1` in sshd_config
(bash then skips it), which leaves the transport's own overhead. Prints figures;
asserts nothing.

    python bench/ssh_overhead.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from sshd import start_sshd  # noqa: E402  (the path is set up first)

from edge_bench.devices import DeviceProfile, open_transport, read_profile  # noqa: E402  (the path is set up first)


def timed(fn, runs: int) -> list[float]:
    """Wall times of `runs` calls after two warm-up calls."""
    for _ in range(2):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def line(label: str, samples: list[float]) -> str:
    """median, mean ± sd, min … max in milliseconds."""
    ms = [s * 1000 for s in samples]
    sd = statistics.stdev(ms) if len(ms) > 1 else 0.0
    return (f"{label:<52} median {statistics.median(ms):7.1f} ms   mean {statistics.mean(ms):7.1f} ± {sd:5.1f}   "
            f"min {min(ms):7.1f} … max {max(ms):7.1f}   n={len(ms)}")


def shell_startup(runs: int) -> list[float]:
    """What the remote login shell costs by itself: bash as sshd starts it (sources ~/.bashrc)."""
    env = {**os.environ, "SSH_CLIENT": "127.0.0.1 1 22", "SHLVL": "0"}
    return timed(lambda: subprocess.run(["bash", "-c", "true"], env=env, check=True), runs)


def measure(tmp: Path, runs: int, lean: bool) -> None:
    """Time the transports against one sshd; `lean` skips the login shell's ~/.bashrc."""
    folder = tmp / ("lean" if lean else "login")
    server = start_sshd(folder / "sshd", lean_shell=lean)
    try:
        profile = read_profile(server.write_profile(folder / "config", "loopback", workdir=f"{folder}/remote"))
        what = "no ~/.bashrc" if lean else "with ~/.bashrc"
        with open_transport(profile) as shared:
            print(line(f"ssh run(['true']) shared connection, {what}", timed(lambda: shared.run(["true"]), runs)))
            if lean:
                payload = folder / "payload.bin"
                payload.write_bytes(os.urandom(16 * 2**20))
                push = timed(lambda: shared.push(payload, "payload.bin"), 5)
                pull = timed(lambda: shared.pull("payload.bin", folder / "back.bin"), 5)
                print(line("ssh push 16 MiB (shared)", push) + f"   {16 / statistics.median(push):.0f} MiB/s")
                print(line("ssh pull 16 MiB (shared)", pull) + f"   {16 / statistics.median(pull):.0f} MiB/s")
        profile.ssh.control_master = False
        with open_transport(profile) as direct:
            print(line(f"ssh run(['true']) new connection, {what}", timed(lambda: direct.run(["true"]), runs)))
    finally:
        server.stop()


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    print(f"{runs} runs each after 2 warm-up runs; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs\n")
    with tempfile.TemporaryDirectory(prefix="eb-ssh-bench-") as tmp:
        for lean in (True, False):
            measure(Path(tmp), runs, lean)
    with open_transport(DeviceProfile(name="here")) as here:
        print(line("local run(['true'])", timed(lambda: here.run(["true"]), runs)))
    print(line("bash -c true as sshd starts it (~/.bashrc)", shell_startup(runs)))


if __name__ == "__main__":
    main()
