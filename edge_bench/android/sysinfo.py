"""Parsers for what an Android phone says about itself over `adb shell`.

Formats, as the phone prints them:
- `getprop`: `[ro.product.model]: [Pixel 8]`, one property a line.
- `/proc/cpuinfo` on arm64: `processor : 0`, `CPU implementer : 0x41`, `CPU part : 0xd4d`, and on
  some kernels a trailing `Hardware : Qualcomm Technologies, Inc SM8550`.
- `dumpsys battery`: `Current Battery Service state:` then `  level: 87`, `  temperature: 285`
  (tenths of a degree Celsius); some vendors append an event log that repeats `level:`, so only
  the first block is read.
- `/sys/class/thermal/thermal_zone*/temp`: millidegrees Celsius on most kernels (a few report
  tenths or whole degrees); `type` names the sensor.
- `/proc/PID/smaps_rollup` (`Pss:  12345 kB`) and `/proc/PID/status` (`VmHWM:  23456 kB`).
- `dumpsys meminfo PID`: `TOTAL PSS:  12345 ...` (Android 10+) or a `TOTAL  12345 ...` row (older).
"""

from __future__ import annotations

import re

_GETPROP = re.compile(r"^\[([^\]]+)\]: \[(.*)\]$")
_KV = re.compile(r"^\s*([^:]+?)\s*:\s*(.*)$")

# ARM "CPU part" numbers for implementer 0x41 (Arm Ltd), from the Arm TRMs.
ARM_CORES = {
    0xD03: "Cortex-A53", 0xD04: "Cortex-A35", 0xD05: "Cortex-A55", 0xD07: "Cortex-A57", 0xD08: "Cortex-A72",
    0xD09: "Cortex-A73", 0xD0A: "Cortex-A75", 0xD0B: "Cortex-A76", 0xD0D: "Cortex-A77", 0xD41: "Cortex-A78",
    0xD44: "Cortex-X1", 0xD46: "Cortex-A510", 0xD47: "Cortex-A710", 0xD48: "Cortex-X2", 0xD4D: "Cortex-A715",
    0xD4E: "Cortex-X3", 0xD80: "Cortex-A520", 0xD81: "Cortex-A720", 0xD82: "Cortex-X4", 0xD85: "Cortex-X925",
    0xD87: "Cortex-A725",
}

FINGERPRINT_PROPS = {
    "model": "ro.product.model",
    "manufacturer": "ro.product.manufacturer",
    "device": "ro.product.device",
    "android_version": "ro.build.version.release",
    "sdk": "ro.build.version.sdk",
    "build": "ro.build.fingerprint",
    "abi": "ro.product.cpu.abi",
}
SOC_PROPS = ("ro.soc.model", "ro.board.platform", "ro.hardware", "ro.product.board")


def parse_getprop(text: str) -> dict[str, str]:
    """`getprop` output as {property: value}."""
    props: dict[str, str] = {}
    for line in text.splitlines():
        if match := _GETPROP.match(line.strip()):
            props[match.group(1)] = match.group(2)
    return props


def abi_list(props: dict[str, str]) -> list[str]:
    """The ABIs the phone runs, best first: ro.product.cpu.abilist, else abi (+ abi2 on old phones)."""
    listed = props.get("ro.product.cpu.abilist", "")
    if listed.strip():
        return [abi.strip() for abi in listed.split(",") if abi.strip()]
    return [props[key] for key in ("ro.product.cpu.abi", "ro.product.cpu.abi2") if props.get(key)]


def fingerprint_from_props(props: dict[str, str]) -> dict:
    """The identifying properties of the phone: model, maker, SoC, Android version, ABIs."""
    out: dict = {name: props.get(key) or None for name, key in FINGERPRINT_PROPS.items()}
    soc_maker = props.get("ro.soc.manufacturer")
    soc = next((props[key] for key in SOC_PROPS if props.get(key)), None)
    out["soc"] = f"{soc_maker} {soc}" if soc and soc_maker else soc
    out["abilist"] = abi_list(props)
    return out


def parse_cpuinfo(text: str) -> dict:
    """Cores from /proc/cpuinfo: one entry per processor (implementer, part, core name) and a summary."""
    cores: list[dict] = []
    hardware = None
    for line in text.splitlines():
        match = _KV.match(line)
        if not match:
            continue
        key, value = match.group(1).lower(), match.group(2).strip()
        if key == "processor" and value.isdigit():
            cores.append({"cpu": int(value)})
        elif key == "hardware":
            hardware = value
        elif cores and key in ("cpu implementer", "cpu part", "cpu variant", "cpu revision"):
            cores[-1][key.replace("cpu ", "")] = value
    for core in cores:
        part = core.get("part")
        if part and core.get("implementer", "").lower() == "0x41":
            core["name"] = ARM_CORES.get(int(part, 16))
    summary: dict[str, int] = {}
    for core in cores:
        name = core.get("name") or core.get("part") or "unknown"
        summary[name] = summary.get(name, 0) + 1
    return {"n_cpus": len(cores), "cores": cores, "core_types": summary, "hardware": hardware}


def parse_battery(text: str) -> dict:
    """`dumpsys battery`: level (%), temperature (deg C, from tenths), status, plugged state; first block only."""
    values: dict[str, str] = {}
    started = False
    for line in text.splitlines():
        if "Battery Service state" in line:
            started = True
            continue
        if not started:
            continue
        if not line.startswith(" ") or not line.strip():
            if values:
                break
            continue
        if match := _KV.match(line):
            values.setdefault(match.group(1).strip().lower(), match.group(2).strip())
    out: dict = {}
    if (level := _int(values.get("level"))) is not None:
        scale = _int(values.get("scale")) or 100
        out["level_pct"] = round(100.0 * level / scale, 1)
    if (tenths := _int(values.get("temperature"))) is not None:
        out["temperature_c"] = tenths / 10.0
    for key in ("status", "health", "voltage"):
        if (value := _int(values.get(key))) is not None:
            out[key] = value
    powered = [kind for kind in ("ac", "usb", "wireless", "dock") if values.get(f"{kind} powered") == "true"]
    if values:
        out["plugged"] = powered
    return out


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def thermal_celsius(raw: str) -> float | None:
    """A thermal zone reading in deg C: millidegrees on most kernels, tenths or degrees on a few."""
    value = _int(raw.strip()) if raw else None
    if value is None:
        return None
    if abs(value) >= 1000:
        return value / 1000.0
    if abs(value) >= 200:
        return value / 10.0
    return float(value)


def parse_pipe_table(text: str, names: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows of `a|b|c` lines (what the probe scripts print) as dicts keyed by `names`."""
    rows = []
    for line in text.splitlines():
        if "|" not in line:
            continue
        cells = [cell.strip() for cell in line.split("|")]
        rows.append(dict(zip(names, cells + [""] * (len(names) - len(cells)))))
    return rows


def parse_thermal(text: str) -> dict[str, float]:
    """`zone|type|temp` rows as {type or zone: deg C}, zones that could not be read left out."""
    temps: dict[str, float] = {}
    for row in parse_pipe_table(text, ("zone", "type", "temp")):
        celsius = thermal_celsius(row["temp"])
        if celsius is None:
            continue
        name = row["type"] or row["zone"]
        if name in temps:
            name = f"{name}@{row['zone']}"
        temps[name] = celsius
    return temps


def parse_cpufreq(text: str) -> dict:
    """`cpuN|governor|cur_khz|max_khz` rows as the governor(s) and per-CPU frequencies in MHz."""
    cpus = {}
    for row in parse_pipe_table(text, ("cpu", "governor", "cur", "max")):
        cur, top = _int(row["cur"]), _int(row["max"])
        cpus[row["cpu"]] = {"governor": row["governor"] or None,
                            "cur_mhz": cur / 1000.0 if cur is not None else None,
                            "max_mhz": top / 1000.0 if top is not None else None}
    governors = sorted({cpu["governor"] for cpu in cpus.values() if cpu["governor"]})
    return {"governor": governors[0] if len(governors) == 1 else (governors or None), "cpus": cpus}


def parse_kb_field(text: str, name: str) -> int | None:
    """A `Name:   1234 kB` field of /proc/PID/status or smaps_rollup, in bytes."""
    match = re.search(rf"^{re.escape(name)}:\s+(\d+)\s*kB", text, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def parse_meminfo_pss(text: str) -> int | None:
    """Total PSS in bytes from `dumpsys meminfo PID` (the `TOTAL PSS:` summary or the older `TOTAL` row)."""
    match = re.search(r"TOTAL PSS:\s+([\d,]+)", text) or re.search(r"^\s*TOTAL\s+(\d+)\s", text, re.MULTILINE)
    return int(match.group(1).replace(",", "")) * 1024 if match else None
