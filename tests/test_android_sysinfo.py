"""Parsers for what a phone says about itself: getprop, /proc/cpuinfo, dumpsys battery and meminfo, sysfs."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_bench.android import sysinfo

FIXTURES = Path(__file__).parent / "fixtures" / "android"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_pixel8_fingerprint():
    props = sysinfo.parse_getprop(fixture("getprop_pixel8.txt"))
    assert props["ro.product.cpu.abilist32"] == ""
    fp = sysinfo.fingerprint_from_props(props)
    assert fp["model"] == "Pixel 8" and fp["manufacturer"] == "Google"
    assert fp["soc"] == "Google Tensor G3"
    assert (fp["android_version"], fp["sdk"]) == ("14", "34")
    assert fp["abilist"] == ["arm64-v8a"]  # 64-bit only: no armeabi-v7a runner runs here
    assert fp["build"].startswith("google/shiba/shiba:14/")


def test_android10_falls_back_to_board_platform_and_lists_32bit_abis():
    fp = sysinfo.fingerprint_from_props(sysinfo.parse_getprop(fixture("getprop_android10_sm8150.txt")))
    assert fp["soc"] == "msmnile"
    assert fp["abilist"] == ["arm64-v8a", "armeabi-v7a", "armeabi"]


def test_kitkat_has_no_abilist_but_abi_and_abi2():
    props = sysinfo.parse_getprop(fixture("getprop_android4_armv7.txt"))
    assert sysinfo.abi_list(props) == ["armeabi-v7a", "armeabi"]


def test_cpuinfo_arm64_core_types():
    cpu = sysinfo.parse_cpuinfo(fixture("cpuinfo_arm64_9core.txt"))
    assert cpu["n_cpus"] == 9
    assert cpu["core_types"] == {"Cortex-A510": 4, "Cortex-A715": 4, "Cortex-X3": 1}
    assert cpu["cores"][8] == {"cpu": 8, "implementer": "0x41", "variant": "0x1", "part": "0xd4e", "revision": "0", "name": "Cortex-X3"}


def test_cpuinfo_armv7_qualcomm_part_and_hardware_line():
    cpu = sysinfo.parse_cpuinfo(fixture("cpuinfo_armv7_hardware.txt"))
    assert cpu["n_cpus"] == 2 and cpu["hardware"] == "Qualcomm MSM 8960 (Flattened Device Tree)"
    assert cpu["core_types"] == {"0x06f": 2}  # Krait: not an Arm Ltd part number, kept as printed


def test_battery_aosp():
    battery = sysinfo.parse_battery(fixture("dumpsys_battery_aosp.txt"))
    assert battery == {"level_pct": 100.0, "temperature_c": 27.4, "status": 5, "health": 2, "voltage": 4352, "plugged": ["usb"]}


def test_battery_samsung_event_log_does_not_leak_in():
    battery = sysinfo.parse_battery(fixture("dumpsys_battery_samsung_eventlog.txt"))
    assert battery["level_pct"] == 75.0 and battery["temperature_c"] == pytest.approx(35.7) and battery["voltage"] == 4156


def test_battery_missing_service_gives_nothing():
    assert sysinfo.parse_battery("Can't find service: battery\n") == {}


@pytest.mark.parametrize("raw, celsius", [("38500", 38.5), ("-4000", -4.0), ("385", 38.5), ("41", 41.0), ("", None), ("n/a", None)])
def test_thermal_units(raw, celsius):
    assert sysinfo.thermal_celsius(raw) == celsius


def test_thermal_and_cpufreq_rows():
    thermal = sysinfo.parse_thermal("thermal_zone0|BIG|51230\nthermal_zone1|MID|47800\nthermal_zone2|battery|31000\n"
                                    "thermal_zone3|BIG|50100\nthermal_zone4|tpu|\n")
    assert thermal == {"BIG": 51.23, "MID": 47.8, "battery": 31.0, "BIG@thermal_zone3": 50.1}
    freq = sysinfo.parse_cpufreq("cpu0|sched_pixel|820000|1704000\ncpu8|sched_pixel|2910000|2910000\ncpu9|||\n")
    assert freq["governor"] == "sched_pixel"
    assert freq["cpus"]["cpu8"] == {"governor": "sched_pixel", "cur_mhz": 2910.0, "max_mhz": 2910.0}
    assert freq["cpus"]["cpu9"] == {"governor": None, "cur_mhz": None, "max_mhz": None}
    mixed = sysinfo.parse_cpufreq("cpu0|schedutil|1|2\ncpu4|performance|1|2\n")
    assert mixed["governor"] == ["performance", "schedutil"]


def test_pss_from_smaps_rollup_status_and_dumpsys_meminfo():
    rollup = "55d0a3c000-7ffd1c9ff000 ---p 00000000 00:00 0    [rollup]\nRss:    33432 kB\nPss:    29530 kB\nPss_Anon:  17700 kB\n"
    assert sysinfo.parse_kb_field(rollup, "Pss") == 29530 * 1024
    assert sysinfo.parse_kb_field("Name:\tbenchmark_model\nVmHWM:\t   35120 kB\n", "VmHWM") == 35120 * 1024
    assert sysinfo.parse_meminfo_pss(fixture("dumpsys_meminfo_native_pid.txt")) == 29530 * 1024
    older = "** MEMINFO in pid 1 [x] **\n        TOTAL    12000    9000     100        0\n"
    assert sysinfo.parse_meminfo_pss(older) == 12000 * 1024
    assert sysinfo.parse_meminfo_pss("No process found for: 99999\n") is None
