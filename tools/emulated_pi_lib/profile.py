"""The edge-bench device profile of an emulated Pi, and its ssh settings."""

from __future__ import annotations

from emulated_pi_lib.layout import QEMU_DEFAULT, SUITE, USER, VENV, Layout

HOST = "127.0.0.1"
THREADS = 2  # the host's cores; a Pi 5 has 4, but emulated threads share this machine's

_TEMPLATE = """\
# The emulated Raspberry Pi 5 (tools/emulated-pi): Debian {suite} arm64 run through
# qemu-user on this machine, with its own sshd on loopback. Start it first:
#   tools/emulated-pi start        (as root; builds the device the first time, 12-30 min)
# Everything is real except timing: emulation is ~400x slower than a Pi 5.
name = "{name}"
description = "{description}"
transport = "ssh"
python = "{venv}/bin/python"
workdir = "~/edge-bench"  # in the device user's private home (0700)
threads = {threads}
affinity = []
thermal_zones = []  # no sensors: the device sees the host's /sys
backends = ["executorch", "tflite"]
peak_gflops = 0.0   # unknown: an emulated core has no meaningful peak
peak_gflops_derivation = "emulated (qemu-user); a real Pi 5 is 4 x Cortex-A76 @ 2.4 GHz x 16 FLOP/cycle = 153.6"

[env]
{env}
[ssh]
host = "{host}"
port = {port}
user = "{user}"
identity_file = "{key}"
known_hosts = "{known_hosts}"
connect_timeout = 30  # the handshake's crypto runs emulated
config_file = "none"  # the device is fully described here; ~/.ssh/config does not apply
"""


def qemu_cpu_env(cpu: str) -> dict[str, str]:
    """The `[env]` every command on the device gets: QEMU_CPU, unless qemu's default is wanted."""
    return {} if cpu == QEMU_DEFAULT else {"QEMU_CPU": cpu}


def profile_text(lay: Layout, port: int, cpu: str, name: str = "emulated-pi") -> str:
    """The TOML device profile of the device at `lay`, reached on `port`, emulating `cpu`."""
    env = qemu_cpu_env(cpu)
    env_lines = "".join(f'{key} = "{value}"\n' for key, value in env.items())
    if not env:
        env_lines = "# QEMU_CPU unset: qemu's default CPU model (not a Pi's core)\n"
    what = f"qemu {cpu}" if cpu != QEMU_DEFAULT else "qemu's default CPU model"
    description = f"Emulated Raspberry Pi 5 (aarch64 under {what}, Debian {SUITE}); timings meaningless"
    return _TEMPLATE.format(suite=SUITE, name=name, description=description, venv=VENV, threads=THREADS,
                            env=env_lines, host=HOST, port=port, user=USER, key=lay.key,
                            known_hosts=lay.known_hosts)


def known_hosts_line(port: int, host_public_key: str) -> str:
    """A known_hosts entry for the device's sshd on loopback."""
    where = HOST if port == 22 else f"[{HOST}]:{port}"
    key_type, key = host_public_key.split()[:2]
    return f"{where} {key_type} {key}\n"


def ssh_argv(lay: Layout, port: int, cpu: str) -> list[str]:
    """An ssh command line to the device, up to the remote command (QEMU_CPU sent along)."""
    argv = ["ssh", "-F", "none", "-i", str(lay.key), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
            "-o", f"UserKnownHostsFile={lay.known_hosts}", "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=30", "-o", "LogLevel=ERROR", "-p", str(port)]
    for key, value in qemu_cpu_env(cpu).items():
        argv += ["-o", f"SetEnv={key}={value}"]
    return argv + [f"{USER}@{HOST}"]
