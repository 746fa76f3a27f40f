"""The subcommands of `tools/emulated-pi`, one function each, in a registry."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Callable

from emulated_pi_lib import build as builder
from emulated_pi_lib import device, host
from emulated_pi_lib.errors import PiError
from emulated_pi_lib.layout import Layout
from emulated_pi_lib.profile import profile_text, ssh_argv

COMMANDS: dict[str, Callable[[argparse.Namespace, Layout], int]] = {}


def command(func: Callable[[argparse.Namespace, Layout], int]) -> Callable[[argparse.Namespace, Layout], int]:
    """Register a subcommand under its function's name (trailing underscore dropped)."""
    COMMANDS[func.__name__.rstrip("_")] = func
    return func


def say(text: str) -> None:
    """Progress for people, on stderr (stdout stays for what scripts read)."""
    print(f"emulated-pi: {text}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Run the parsed subcommand."""
    return COMMANDS[args.command](args, Layout.at(args.root))


def _locked(args: argparse.Namespace, lay: Layout):
    return host.locked(lay.lock, args.lock_timeout, say)


def _ready_to_build(args: argparse.Namespace, lay: Layout):
    """Root and the host tools checked; the root's lock, to hold while building or starting."""
    host.require_root()
    host.require_tools()
    return _locked(args, lay)


def _nothing_at(lay: Layout) -> bool:
    """True (and said) when there is no device at the root: nothing to stop or delete."""
    if lay.root.exists():
        return False
    say(f"nothing at {lay.root}")
    return True


@command
def check(args: argparse.Namespace, lay: Layout) -> int:
    """Exit 0 when this machine can emulate the device, else 75 with the reason."""
    host.require_root()
    host.require_tools()
    entry = host.ensure_binfmt()
    print(f"ok: qemu-aarch64 {entry['state']} ({entry['interpreter']}, flags {entry['flags'] or '-'})")
    return 0


@command
def build(args: argparse.Namespace, lay: Layout) -> int:
    """Build what is missing; prints the build record (JSON)."""
    with _ready_to_build(args, lay):
        record = builder.build(lay, args.qemu_cpu, args.mirror, say)
    print(json.dumps(record, indent=2))
    return 0


@command
def start(args: argparse.Namespace, lay: Layout) -> int:
    """Build if needed, then start; prints the path of the device profile."""
    with _ready_to_build(args, lay):
        builder.build(lay, args.qemu_cpu, args.mirror, say)
        device.start(lay, args.port, args.qemu_cpu, say)
    print(lay.profile)
    return 0


@command
def stop(args: argparse.Namespace, lay: Layout) -> int:
    """Stop whatever runs or is mounted; fine when nothing does."""
    if _nothing_at(lay):
        return 0
    host.require_root()
    started = time.monotonic()
    with _locked(args, lay):
        device.stop(lay, say)
    say(f"stop took {time.monotonic() - started:.1f} s")
    return 0


@command
def status(args: argparse.Namespace, lay: Layout) -> int:
    """Exit 0 when running, 3 when not (like an LSB init script)."""
    info = device.status(lay)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        built = f"built {info['build']['built_at']}" if info["built"] else "not built"
        state = f"running on 127.0.0.1:{info['port']} (qemu {info['qemu_cpu']})" if info["running"] else "stopped"
        print(f"{lay.root}: {built}, {state}, {len(info['mounts'])} mounts, {len(info['processes'])} processes")
    return 0 if info["running"] else 3


@command
def profile(args: argparse.Namespace, lay: Layout) -> int:
    """Print (or write) the device profile for this root, port and CPU."""
    text = profile_text(lay, args.port, args.qemu_cpu, args.name)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


@command
def ssh(args: argparse.Namespace, lay: Layout) -> int:
    """Replace this process with ssh into the running device."""
    current = device.running(lay)
    if not current:
        raise PiError(f"the emulated Pi at {lay.root} is not running", hint="tools/emulated-pi start")
    argv = ssh_argv(lay, current["port"], current["qemu_cpu"]) + list(args.remote)
    os.execvp(argv[0], argv)
    return 0  # not reached


@command
def destroy(args: argparse.Namespace, lay: Layout) -> int:
    """Stop, then delete the root filesystem and the state folder."""
    if _nothing_at(lay):
        return 0
    host.require_root()
    with _locked(args, lay):
        device.stop(lay, say)
        builder.wipe(lay, say)
        host.run(["rm", "-rf", "--one-file-system", str(lay.state)], what="removing the state folder")
    say(f"destroyed {lay.root}")
    try:
        lay.root.rmdir()
    except OSError:
        pass
    return 0
