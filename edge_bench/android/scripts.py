"""The small POSIX shell programs edge-bench runs on the phone, and readers for what they print.

Each script is passed as one argument to `sh -c` with its inputs as positional
parameters (`sh -c SCRIPT NAME ARG...`), so no value is ever spliced into shell
text: the transport quotes every argv element once, the script reads "$1", "$@".
They use shell builtins plus what Android's toybox provides (cat, od, rm, sleep with
fractions, logcat), and run the same under dash or bash for the tests here.

Every line a script prints for edge-bench starts with `@@eb `.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MARK = "@@eb"

STATE_SCRIPT = r"""
echo "@@eb section cpufreq"
for d in /sys/devices/system/cpu/cpu[0-9]*; do
  [ -d "$d" ] || continue
  f="$d/cpufreq"
  echo "${d##*/}|$(cat "$f/scaling_governor" 2>/dev/null)|$(cat "$f/scaling_cur_freq" 2>/dev/null)|$(cat "$f/cpuinfo_max_freq" 2>/dev/null)"
done
echo "@@eb section thermal"
for z in /sys/class/thermal/thermal_zone*; do
  [ -d "$z" ] || continue
  echo "${z##*/}|$(cat "$z/type" 2>/dev/null)|$(cat "$z/temp" 2>/dev/null)"
done
echo "@@eb section battery"; dumpsys battery 2>/dev/null
echo "@@eb section end"
"""

PROBE_SCRIPT = r"""
echo "@@eb section getprop"; getprop 2>/dev/null
echo "@@eb section cpuinfo"; cat /proc/cpuinfo 2>/dev/null
""" + STATE_SCRIPT

RUNNER_CHECK_SCRIPT = r"""
if [ ! -e "$1" ]; then echo "@@eb runner missing"; exit 0; fi
if [ ! -x "$1" ]; then echo "@@eb runner not-executable"; fi
echo "@@eb runner head" $(od -An -tx1 -N20 "$1" 2>/dev/null)
echo "@@eb taskset $(command -v taskset 2>/dev/null)"
"""

# $1 workdir, $2 output base name, $3 sampling interval (s), $4 "logcat" or "", then the runner's argv.
RUN_SCRIPT = r"""
cd "$1" || { echo "@@eb exit 97"; exit 0; }
out="$2"; interval="$3"; logcat_tag="$4"; shift 4
rm -f "$out.stdout" "$out.stderr" "$out.logcat"
"$@" >"$out.stdout" 2>"$out.stderr" &
pid=$!
echo "@@eb pid $pid"
while :; do
  st=""; p=""
  { while IFS= read -r l; do case "$l" in State:*|VmHWM:*|VmRSS:*) st="$st $l";; esac; done <"/proc/$pid/status"; } 2>/dev/null
  case "$st" in ''|*State:?Z*|*State:?X*) break;; esac
  { while IFS= read -r l; do case "$l" in Pss:*) p="$l";; esac; done <"/proc/$pid/smaps_rollup"; } 2>/dev/null
  echo "@@eb mem $st $p"
  sleep "$interval"
done
wait "$pid"
echo "@@eb exit $?"
if [ -n "$logcat_tag" ]; then
  logcat -d -v threadtime --pid="$pid" -s "$logcat_tag:V" >"$out.logcat" 2>/dev/null
fi
for f in stdout stderr logcat; do
  [ -f "$out.$f" ] || continue
  echo "@@eb begin $f"; cat "$out.$f"; echo; echo "@@eb end $f"
done
"""

_SECTION = re.compile(rf"^{MARK} section (\w+)\s*$")
_KB = re.compile(r"(VmHWM|VmRSS|Pss):\s+(\d+)\s*kB")


def split_sections(text: str) -> dict[str, str]:
    """The `@@eb section NAME` blocks of a probe's output as {NAME: text}."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if match := _SECTION.match(line):
            current = sections.setdefault(match.group(1), [])
        elif current is not None:
            current.append(line)
    return {name: "\n".join(lines) for name, lines in sections.items()}


@dataclass
class RunCapture:
    """What RUN_SCRIPT printed: the runner's exit status, memory samples and its own output."""

    exit_code: int | None = None
    """The runner's status as `wait` reported it: 128+N when killed by signal N; None if cut off."""
    pid: int | None = None
    peak_pss_bytes: int | None = None
    peak_hwm_bytes: int | None = None
    """The largest VmHWM sampled (the kernel's own peak RSS for the process)."""
    samples: int = 0
    streams: dict[str, str] = field(default_factory=dict)
    """The runner's `stdout`, `stderr` and (when asked for) `logcat` text."""

    @property
    def signal(self) -> int | None:
        """The signal that ended the runner (11 SIGSEGV, 6 SIGABRT, 9 SIGKILL), if one did."""
        return self.exit_code - 128 if self.exit_code is not None and 128 < self.exit_code < 160 else None

    def text(self) -> str:
        """stdout, stderr and logcat joined, for the parsers."""
        return "\n".join(self.streams.get(name, "") for name in ("stdout", "stderr", "logcat"))


def _fold_memory(capture: RunCapture, line: str) -> None:
    capture.samples += 1
    for name, kb in _KB.findall(line):
        value = int(kb) * 1024
        if name == "Pss":
            capture.peak_pss_bytes = max(capture.peak_pss_bytes or 0, value)
        elif name == "VmHWM":
            capture.peak_hwm_bytes = max(capture.peak_hwm_bytes or 0, value)


def parse_run_capture(text: str) -> RunCapture:
    """Read RUN_SCRIPT's output; tolerant of a capture cut short (no exit line, an open stream)."""
    capture = RunCapture()
    stream: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        if stream is not None:
            if line == f"{MARK} end {stream}":
                capture.streams[stream] = "\n".join(lines[:-1] if lines and lines[-1] == "" else lines)
                stream, lines = None, []
            else:
                lines.append(line)
            continue
        if not line.startswith(MARK + " "):
            continue
        words = line.split()
        if words[1] == "mem":
            _fold_memory(capture, line)
        elif words[1] == "exit" and len(words) > 2 and words[2].lstrip("-").isdigit():
            capture.exit_code = int(words[2])
        elif words[1] == "pid" and len(words) > 2 and words[2].isdigit():
            capture.pid = int(words[2])
        elif words[1] == "begin" and len(words) > 2:
            stream, lines = words[2], []
    if stream is not None:
        capture.streams[stream] = "\n".join(lines)
    return capture


@dataclass
class RunnerCheck:
    """What RUNNER_CHECK_SCRIPT found about a runner path on the phone."""

    exists: bool
    executable: bool
    head: bytes
    taskset: str | None


def parse_runner_check(text: str) -> RunnerCheck:
    """Read RUNNER_CHECK_SCRIPT's output."""
    from edge_bench.android.elf import parse_od_bytes

    lines = [line for line in text.splitlines() if line.startswith(MARK + " ")]
    missing = any(line == f"{MARK} runner missing" for line in lines)
    head = next((line.split(" head", 1)[1] for line in lines if line.startswith(f"{MARK} runner head")), "")
    taskset = next((line.split(" taskset", 1)[1].strip() for line in lines if line.startswith(f"{MARK} taskset")), "")
    return RunnerCheck(
        exists=not missing,
        executable=not missing and not any(line == f"{MARK} runner not-executable" for line in lines),
        head=parse_od_bytes(head),
        taskset=taskset or None,
    )
