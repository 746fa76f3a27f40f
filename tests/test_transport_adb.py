"""The adb transport: `adb devices -l` parsing on real output, and the real adb client with no phone."""

from __future__ import annotations

import shutil

import pytest

from edge_bench.devices import ConnectionFailed, DeviceProfile, ToolMissing, open_transport
from edge_bench.devices.adb_devices import parse_devices, select_device

# Lines as adb's append_transport prints them: "%-22s %s" serial and state, then
# devpath, product:, model:, device:, transport_id:.
LONG_LISTING = """\
* daemon not running; starting now at tcp:5037
* daemon started successfully
List of devices attached
192.168.1.20:5555      device product:shiba model:Pixel_8 device:shiba transport_id:4
35061FDH2000BP         device usb:1-4 product:husky model:Pixel_8_Pro device:husky transport_id:1
emulator-5554          offline transport_id:2
R58M42ABCDE            unauthorized usb:1-2 transport_id:3
(no serial number)     no permissions (user alice is not in the plugdev group); see [http://developer.android.com/tools/device.html] usb:1-3 transport_id:5
0123456789ABCDEF       recovery usb:1-5 product:omni model:Generic device:generic transport_id:6

"""

SHORT_LISTING = "List of devices attached\nR58M42ABCDE\tunauthorized\nemulator-5554\tdevice\n\n"


def test_parses_every_state_of_the_long_listing():
    devices = parse_devices(LONG_LISTING)
    assert [(d.serial, d.state) for d in devices] == [
        ("192.168.1.20:5555", "device"), ("35061FDH2000BP", "device"), ("emulator-5554", "offline"),
        ("R58M42ABCDE", "unauthorized"), ("(no serial number)", "no permissions"), ("0123456789ABCDEF", "recovery"),
    ]
    assert devices[0].model == "Pixel_8" and devices[0].properties["transport_id"] == "4"
    assert devices[1].properties["usb"] == "1-4" and devices[1].properties["product"] == "husky"
    assert devices[4].properties["usb"] == "1-3" and "plugdev" in devices[4].properties["detail"]


def test_parses_the_short_listing_and_empty_output():
    assert [(d.serial, d.state) for d in parse_devices(SHORT_LISTING)] == [("R58M42ABCDE", "unauthorized"), ("emulator-5554", "device")]
    assert parse_devices("List of devices attached\n\n") == []
    assert parse_devices("") == []


@pytest.mark.parametrize(
    ("serial", "reason", "words"),
    [
        ("emulator-5554", "offline", "is offline"),
        ("R58M42ABCDE", "unauthorized", "accept the 'Allow USB debugging?' prompt"),
        ("(no serial number)", "no-permissions", "udev"),
        ("0123456789ABCDEF", "offline", "'recovery'"),
        ("NOT-THERE", "no-device", "is not attached"),
    ],
)
def test_unusable_devices_are_clear_errors(serial, reason, words):
    with pytest.raises(ConnectionFailed) as caught:
        select_device(parse_devices(LONG_LISTING), serial)
    assert caught.value.reason == reason and words in caught.value.one_line()


def test_selection_by_serial_or_the_only_ready_device():
    devices = parse_devices(LONG_LISTING)
    assert select_device(devices, "35061FDH2000BP").model == "Pixel_8_Pro"
    with pytest.raises(ConnectionFailed, match="2 Android devices attached") as caught:
        select_device(devices)
    assert caught.value.reason == "ambiguous"
    assert select_device(parse_devices(SHORT_LISTING)).serial == "emulator-5554"  # the only ready one
    with pytest.raises(ConnectionFailed, match="unauthorized"):
        select_device(parse_devices("List of devices attached\nR58M42ABCDE\tunauthorized\n"))


needs_adb = pytest.mark.skipif(shutil.which("adb") is None, reason="the adb client is not installed")


@needs_adb
def test_real_adb_with_no_phone_says_so():
    with open_transport(DeviceProfile(name="phone", transport="adb", python="")) as phone:
        if phone.devices():
            pytest.skip("a real Android device is attached")
        with pytest.raises(ConnectionFailed) as caught:
            phone.check(timeout=10)
        assert caught.value.reason == "no-device"
        assert "no Android device attached (adb devices lists none)" in caught.value.one_line()
        with pytest.raises(ConnectionFailed, match="no Android device attached"):
            phone.run(["echo", "hi"])


@needs_adb
def test_real_adb_with_a_serial_that_is_not_attached():
    profile = DeviceProfile(name="phone", transport="adb", python="")
    profile.adb.serial = "EDGEBENCH-NOT-ATTACHED"
    with open_transport(profile) as phone, pytest.raises(ConnectionFailed) as caught:
        phone.check(timeout=10)
    assert caught.value.reason == "no-device" and "EDGEBENCH-NOT-ATTACHED is not attached" in caught.value.message


def test_missing_adb_binary_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no adb on PATH
    with pytest.raises(ToolMissing, match=r"adb client \(adb\) is not installed"):
        open_transport(DeviceProfile(name="phone", transport="adb"))
    profile = DeviceProfile(name="phone", transport="adb")
    profile.adb.binary = str(tmp_path / "bin" / "adb")
    with pytest.raises(ToolMissing) as caught:
        open_transport(profile)
    assert str(tmp_path / "bin" / "adb") in caught.value.message and "set [adb] binary" in caught.value.one_line()


class _Interrupted:
    """In place of the device shell: the first command is interrupted (Ctrl-C); later commands are noted."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], dict]] = []

    def __call__(self, argv, timeout, input, env):  # noqa: A002  (Transport._run's signature)
        self.calls.append((argv, env))
        if len(self.calls) == 1:
            raise KeyboardInterrupt
        from edge_bench.devices.base import CommandResult

        return CommandResult(0, b"", b"", 0.0)


@needs_adb
@pytest.mark.parametrize("transport, stops", [("adb", True), ("ssh", False)])
def test_an_interrupted_command_is_stopped_on_the_device_unless_the_device_does_it_itself(transport, stops):
    """adb has no watched line: Ctrl-C during `run` kills the command's tagged processes before giving up.
    ssh's remote line ends the command itself when the host goes, so no second command is sent."""
    from edge_bench.devices.base import RUN_TAG

    profile = DeviceProfile(name="dev", transport=transport, python="")
    profile.ssh.host = "127.0.0.1"
    device = open_transport(profile)
    shell = _Interrupted()
    device._run = shell
    with pytest.raises(KeyboardInterrupt):
        device.run(["sleep", "600"], tag="t0ab12cd")
    assert shell.calls[0][1][RUN_TAG] == "t0ab12cd"
    if stops:
        (argv, _), = shell.calls[1:]
        assert argv[:2] == ["sh", "-c"] and "t0ab12cd" in argv[2] and "kill" in argv[2]
    else:
        assert shell.calls[1:] == []
