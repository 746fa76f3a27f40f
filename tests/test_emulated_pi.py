"""The emulated Raspberry Pi (tools/emulated-pi): its script, its profile, and the device itself.

The fast tests drive the script against scratch roots (no Debian needed): the
shipped profile, teardown of half-started state, the lock. The slow ones use
the real device (`emulated_pi` fixture: built once per machine, ~12 min, then
reused), reached over ssh like a Pi.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from emulated_pi import DEFAULT_ROOT, QEMU_DEFAULT_PROFILE, REPO, run_script
from emulated_pi import emulated_pi, emulated_pi_profiles  # noqa: F401  (fixtures)

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting and chroot need root")


def findmnt_under(root: Path) -> list[str]:
    """Mount points below `root`, as findmnt lists them."""
    out = subprocess.run(["findmnt", "--list", "--noheadings", "--output", "TARGET"], capture_output=True,
                         text=True, check=True).stdout
    return [line for line in out.splitlines() if line.startswith(f"{root}/")]


def rooted_in(rootfs: Path) -> list[int]:
    """Pids whose root directory is `rootfs` (the device's processes)."""
    pids = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and os.readlink(f"/proc/{entry}/root") == str(rootfs):
                pids.append(int(entry))
        except OSError:
            continue
    return pids


# --- the profile -----------------------------------------------------------------------


def test_shipped_profile_is_the_one_the_script_writes_for_the_default_root():
    proc = run_script("profile", root=DEFAULT_ROOT)
    assert proc.returncode == 0, proc.stderr
    shipped = (REPO / "device_profiles" / "emulated-pi.toml").read_text()
    assert shipped == proc.stdout, "device_profiles/emulated-pi.toml drifted from `tools/emulated-pi profile`"


@pytest.mark.parametrize("name, cpu, env", [("emulated-pi", "cortex-a76", {"QEMU_CPU": "cortex-a76"}),
                                            (QEMU_DEFAULT_PROFILE, "default", {})])
def test_profiles_load_with_the_ssh_transport(tmp_path, name, cpu, env):
    from edge_bench.devices.loader import read_profile

    path = tmp_path / f"{name}.toml"
    proc = run_script("profile", "--port", "2299", "--qemu-cpu", cpu, "--name", name, "--output", str(path),
                      root=tmp_path / "pi")
    assert proc.returncode == 0, proc.stderr
    profile = read_profile(path)
    assert (profile.transport, profile.ssh.host, profile.ssh.port, profile.ssh.user) == ("ssh", "127.0.0.1", 2299, "root")
    assert profile.env == env
    assert profile.ssh.identity_file == str(tmp_path / "pi" / "state" / "id_ed25519")
    assert profile.ssh.known_hosts == str(tmp_path / "pi" / "state" / "known_hosts")
    assert profile.python == "/opt/edge-bench/venv/bin/python"
    assert set(profile.backends) == {"executorch", "tflite"}


# --- teardown and locking on scratch roots ------------------------------------------------


def test_stop_and_status_on_an_absent_root_do_nothing(tmp_path):
    root = tmp_path / "never-built"
    stop = run_script("stop", root=root)
    status = run_script("status", "--json", root=root)
    assert stop.returncode == 0, stop.stderr
    assert status.returncode == 3  # not running
    info = json.loads(status.stdout)
    assert (info["built"], info["running"], info["mounts"], info["processes"]) == (False, False, [], [])
    assert not root.exists()


def _fake_device(root: Path) -> tuple[Path, subprocess.Popen]:
    """A rootfs with a host `sleep` (and its libraries) running chrooted in it."""
    rootfs = root / "rootfs"
    for lib in ("/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2", "/usr/bin/sleep"):
        target = rootfs / lib.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.realpath(lib), target)
    for folder in ("proc", "dev", "tmp"):
        (rootfs / folder).mkdir()
    sleeper = subprocess.Popen(["chroot", str(rootfs), "/usr/bin/sleep", "300"])
    return rootfs, sleeper


@needs_root
def test_stop_cleans_up_a_half_started_device_and_touches_nothing_else(tmp_path):
    root = tmp_path / "pi"
    rootfs, inside = _fake_device(root)
    outside = subprocess.Popen(["sleep", "300"])  # a host process named in a stale pid file
    state = root / "state"
    state.mkdir()
    (state / "sshd.pid").write_text(f"{outside.pid}\n")
    try:
        subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(rootfs / "tmp")], check=True)
        subprocess.run(["mount", "-t", "proc", "proc", str(rootfs / "proc")], check=True)
        subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(rootfs / "proc")], check=True)  # stacked
        subprocess.run(["mount", "--bind", "/dev", str(rootfs / "dev")], check=True)
        (state / "mounts").write_text(f"{rootfs / 'proc'}\n")  # the record names only one of them
        time.sleep(0.2)
        assert rooted_in(rootfs) == [inside.pid]
        assert len(findmnt_under(root)) == 4

        proc = run_script("stop", root=root)

        assert proc.returncode == 0, proc.stderr
        assert findmnt_under(root) == []
        assert inside.wait(timeout=10) != 0  # killed: it lived in the device
        assert outside.poll() is None  # not the device's, though its pid was in the pid file
        assert not (state / "sshd.pid").exists() and not (state / "mounts").exists()
        assert run_script("stop", root=root).returncode == 0  # idempotent
    finally:
        for target in reversed(findmnt_under(root)):
            subprocess.run(["umount", "-l", target])
        inside.kill()
        outside.kill()


def test_a_second_command_waits_for_the_lock(tmp_path):
    root = tmp_path / "pi"
    (root / "state").mkdir(parents=True)
    with open(root / "state" / "lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        started = time.monotonic()
        busy = run_script("stop", "--lock-timeout", "1", root=root)
        waited = time.monotonic() - started
        fcntl.flock(lock, fcntl.LOCK_UN)
    assert busy.returncode == 73, busy.stderr
    assert "another emulated-pi command holds" in busy.stderr
    assert waited >= 1.0
    assert run_script("stop", "--lock-timeout", "1", root=root).returncode == 0


# --- the device itself (slow) ----------------------------------------------------------------


@pytest.mark.slow
def test_the_device_is_an_aarch64_pi5_with_the_runtimes(emulated_pi):
    script = ("uname -m; cat /proc/cpuinfo | grep -E '^(Model|CPU part)' | sort -u; "
              "/opt/edge-bench/venv/bin/python -c 'import sys, ai_edge_litert.interpreter, "
              "executorch_numpy_runtime as en; print(sys.version_info[:2]); "
              "print(en.runtime_info()[\"executorch_version\"])'; python3 -c 'import torch' 2>&1 | tail -1")
    proc = emulated_pi.ssh(script)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.decode().splitlines()
    assert lines[0] == "aarch64"
    assert "CPU part\t: 0xd0b" in lines and "Model\t\t: Raspberry Pi 5 Model B Rev 1.0" in lines
    assert lines[3] == "(3, 13)"
    assert "No module named 'torch'" in lines[-1]


@pytest.mark.slow
def test_fingerprint_over_the_ssh_transport(emulated_pi, emulated_pi_profiles):
    from edge_bench.devices import load_profile, open_transport

    with open_transport(load_profile("emulated-pi")) as transport:
        info = transport.info()
    assert info["machine"] == "aarch64"
    assert info["cpu"]["model"] == "Cortex-A76" and info["cpu"]["cores"] == 4
    assert info["board"] == "Raspberry Pi 5 Model B Rev 1.0"
    assert info["python"]["version"].startswith("3.13.")
    runtimes = info["runtimes"]
    assert runtimes["executorch_numpy_runtime"] == "1.4.0" and runtimes["ai_edge_litert"] == "2.3.0"
    assert runtimes["torch"] is None and runtimes["executorch"] is None


@pytest.mark.slow
def test_stop_ends_every_device_process_and_leaves_nothing_mounted(emulated_pi):
    started = emulated_pi.ssh("nohup sleep 600 >/dev/null 2>&1 & echo $!")
    assert started.returncode == 0, started.stderr
    assert len(rooted_in(emulated_pi.rootfs)) >= 2  # sshd and the stray sleep
    assert findmnt_under(emulated_pi.root)

    stop = emulated_pi.stop()

    assert stop.returncode == 0, stop.stderr
    assert findmnt_under(emulated_pi.root) == []
    assert rooted_in(emulated_pi.rootfs) == []
    assert emulated_pi.status()["running"] is False
    emulated_pi.start()  # back for the other tests; a second start is a no-op
    pid = emulated_pi.status()["pid"]
    again = run_script("start", "--port", str(emulated_pi.port), root=emulated_pi.root)
    assert again.returncode == 0 and "already running" in again.stderr
    assert emulated_pi.status()["pid"] == pid


# --- runtimes on the device against the host ---------------------------------------------

DEVICE_RUN = """\
import sys, numpy as np
kind, model, inputs, out = sys.argv[1:5]
xs = np.load(inputs)
if kind == "pte":
    import executorch_numpy_runtime as en
    method = en.Runtime.get().load_program(model).load_method("forward")
    ys = [method([x])[0] for x in xs]
else:
    from ai_edge_litert.interpreter import Interpreter
    it = Interpreter(model_path=model, num_threads=2)
    it.allocate_tensors()
    i, o = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    ys = []
    for x in xs:
        it.set_tensor(i, x)
        it.invoke()
        ys.append(it.get_tensor(o).copy())
np.save(out, np.stack(ys))
"""


@pytest.fixture(scope="module")
def image_tower_artifacts(tmp_path_factory):
    """An edgeclip-s image tower as int8 XNNPACK .pte and fp32 .tflite, inputs, and the host's outputs."""
    import edge_bench._torchvision_compat  # noqa: F401
    import torch
    from edge_bench.models import create_model

    folder = tmp_path_factory.mktemp("emulated-pi-artifacts")
    tower = create_model("edgeclip-s-distilled").image_encoder.eval()
    size = tower.config.image_size
    xs = torch.randn(4, 1, 3, size, size, generator=torch.Generator().manual_seed(1))
    np.save(folder / "inputs.npy", xs.numpy())
    _int8_pte(tower, xs, folder / "image-int8.pte")
    _fp32_tflite(tower, xs[0], folder / "image-fp32.tflite")
    from executorch.runtime import Runtime

    method = Runtime.get().load_program(str(folder / "image-int8.pte")).load_method("forward")
    host = {"pte": np.stack([method.execute([x])[0].numpy() for x in xs]),
            "tflite": _host_tflite(folder / "image-fp32.tflite", xs.numpy())}
    return folder, host


def _int8_pte(tower, xs, path: Path) -> None:
    import torch
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (XNNPACKQuantizer,
                                                                         get_symmetric_quantization_config)
    from executorch.exir import to_edge_transform_and_lower
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
    graph = prepare_pt2e(torch.export.export(tower, (xs[0],)).module(), quantizer)
    for x in xs:
        graph(x)
    program = torch.export.export(convert_pt2e(graph), (xs[0],))
    path.write_bytes(to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()]).to_executorch().buffer)


def _fp32_tflite(tower, x, path: Path) -> None:
    import litert_torch

    litert_torch.convert(tower, (x,)).export(str(path))


def _host_tflite(model: Path, xs: np.ndarray) -> np.ndarray:
    """The host's outputs of a .tflite: the device's program, run here."""
    np.save(model.parent / "host-inputs.npy", xs)
    out = model.parent / "host-tflite.npy"
    subprocess.run([sys.executable, "-c", DEVICE_RUN, "tflite", str(model), str(model.parent / "host-inputs.npy"),
                    str(out)], check=True, capture_output=True, timeout=300)
    return np.load(out)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two stacks of embeddings."""
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    return (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)


def _run_on_device(profile_name: str, folder: Path, kind: str, model: str) -> np.ndarray:
    from edge_bench.devices import load_profile, open_transport

    with open_transport(load_profile(profile_name)) as device:
        for name in ("inputs.npy", model):
            device.push(folder / name, f"smoke/{name}")
        result = device.run([device.python, "-c", DEVICE_RUN, kind, f"smoke/{model}", "smoke/inputs.npy",
                             f"smoke/{profile_name}-{kind}.npy"], timeout=600)
        result.check(f"{kind} on {profile_name}")
        out = folder / f"{profile_name}-{kind}.npy"
        device.pull(f"smoke/{profile_name}-{kind}.npy", out)
    return np.load(out)


@pytest.mark.slow
def test_runtimes_on_the_device_match_the_host_only_under_the_pi_cpu_model(
        emulated_pi, emulated_pi_profiles, image_tower_artifacts):
    folder, host = image_tower_artifacts
    tflite = _run_on_device("emulated-pi", folder, "tflite", "image-fp32.tflite")
    pte = _run_on_device("emulated-pi", folder, "pte", "image-int8.pte")
    wrong = _run_on_device(QEMU_DEFAULT_PROFILE, folder, "pte", "image-int8.pte")
    assert cosines(tflite, host["tflite"]).min() >= 0.9999
    assert cosines(pte, host["pte"]).min() >= 0.9999
    # qemu's default CPU model: the int8 XNNPACK kernels silently compute something else.
    assert cosines(wrong, host["pte"]).min() < 0.99
