"""Devices: every device profile, whether it answers, and the fingerprint of the one under the cursor; with a lab
address, the lab's nodes, their devices and which are busy (what `edge-bench lab status` shows)."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from edge_bench.devices import DeviceProfile
from edge_bench.errors import EdgeBenchError
from edge_bench.tui.messages import DeviceChosen
from edge_bench.tui.widgets.nav import ScreenNav
from edge_bench.tui.widgets.table import Table

COLUMNS = ("name", "transport", "address", "backends", "threads", "reachable", "detail")
LAB_COLUMNS = ("node", "address", "alive", "devices", "busy")


class DevicesScreen(Screen):
    """The device profiles (shipped and the user's), probed in a worker."""

    CSS_PATH = "devices.tcss"
    AUTO_FOCUS = "#profiles"
    HELP = """\
## Devices

Every device profile edge-bench knows: the shipped ones and yours (in the
config folder's `devices/`). Each one is probed in the background: does it
answer, and which Python does it run?

- **enter** or **f**: read the fingerprint of the device under the cursor
  (CPU, clocks, memory, temperatures, runtimes).
- **u**: use this device on the Plan screen.
- **r**: read the profiles again and probe them (and the lab's state).

With a lab address (`edge-bench tui --lab HEAD:PORT`), a table lists the
lab's nodes (Ray's view, as `edge-bench lab status`): each node's address,
whether it is alive, the devices it serves and which of them a run holds now.
"""
    BINDINGS = [
        Binding("f", "fingerprint", "Fingerprint"),
        Binding("u", "use", "Use in plan"),
        Binding("r", "refresh", "Re-probe"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.profiles: dict[str, DeviceProfile] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield ScreenNav("devices")
        table = Table(id="profiles", cursor_type="row", zebra_stripes=True)
        table.border_title = "Device profiles"
        yield table
        lab = Table(id="lab-nodes", cursor_type="row", zebra_stripes=True)
        lab.border_title = f"Lab at {self.app.settings.lab_address}"
        lab.display = bool(self.app.settings.lab_address)
        yield lab
        with VerticalScroll(id="fingerprint-pane") as pane:
            pane.border_title = "Fingerprint"
            yield Static("Press [b]f[/] on a device to read its fingerprint.", id="fingerprint")
        yield Static("", id="profile-errors")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#profiles", DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        for column in LAB_COLUMNS:
            self.query_one("#lab-nodes", DataTable).add_column(column, key=column)
        self.action_refresh()

    def action_refresh(self) -> None:
        """Read the profiles and probe them again."""
        self._scan(self.app.settings.auto_probe, self.app.settings.probe_timeout)
        if self.app.settings.lab_address:
            self.query_one("#lab-nodes", DataTable).border_subtitle = "reading the lab…"
            self._lab(self.app.settings.lab_address)

    @work(thread=True, exclusive=True, group="lab", exit_on_error=False)
    def _lab(self, address: str) -> None:
        """The lab's nodes as `edge-bench lab status` reads them (edge_bench.runner.lab_status)."""
        from edge_bench.runner.lab_status import lab_status

        try:
            nodes, error = lab_status(address), ""
        except EdgeBenchError as exc:
            nodes, error = [], exc.one_line()
        self.app.from_worker(self.show_lab, nodes, error)

    def show_lab(self, nodes: list, error: str = "") -> None:
        """Fill the lab's table: one row per node (LabNode), or why the lab cannot be read."""
        table = self.query_one("#lab-nodes", DataTable)
        table.clear()
        for node in nodes:
            table.add_row(node.node_id[:12], Text(f"{node.address} ({node.hostname})"),
                          Text("yes", style="green") if node.alive else Text("no (lost)", style="bold red"),
                          ", ".join(node.devices) or "-", Text(", ".join(node.busy) or "-",
                                                               style="bold yellow" if node.busy else ""),
                          key=node.node_id)
        alive = [n for n in nodes if n.alive]
        table.border_subtitle = (error or f"{len(alive)} node(s) alive, "
                                 f"{sum(len(n.devices) for n in alive)} device(s), "
                                 f"{sum(len(n.busy) for n in alive)} busy")

    @work(thread=True, exclusive=True, group="scan")
    def _scan(self, probe: bool, timeout: float) -> None:
        from edge_bench.devices import scan_profiles
        from edge_bench.devices.probe import probe_all

        profiles, errors = scan_profiles()
        self.app.from_worker(self._show_profiles, profiles, [e.one_line() for e in errors], probe)
        if probe:
            for result in probe_all(profiles, timeout=timeout):
                self.app.from_worker(self._show_probe, result)

    def _show_profiles(self, profiles: list[DeviceProfile], errors: list[str], probing: bool) -> None:
        table = self.query_one("#profiles", DataTable)
        table.clear()
        self.profiles = {p.name: p for p in profiles}
        reachable = Text("probing…", style="dim") if probing else Text("not probed", style="dim")
        for p in profiles:
            table.add_row(p.name, p.transport, Text(p.address), ", ".join(p.backends), str(p.threads), reachable, "",
                          key=p.name)
        self.query_one("#profile-errors", Static).update(
            Text("\n".join(errors), style="red") if errors else "")
        self.query_one("#profile-errors").display = bool(errors)
        self._describe()

    def _show_probe(self, result) -> None:
        table = self.query_one("#profiles", DataTable)
        if result.name not in self.profiles:
            return
        cell = Text("yes", style="green") if result.reachable else Text("no", style="bold red")
        table.update_cell(result.name, "reachable", cell)
        table.update_cell(result.name, "detail", Text(result.detail), update_width=True)

    def _current(self) -> DeviceProfile | None:
        table = self.query_one("#profiles", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.profiles.get(key)

    @on(DataTable.RowHighlighted, "#profiles")
    def _describe(self) -> None:
        profile = self._current()
        pane = self.query_one("#fingerprint-pane")
        pane.border_subtitle = f"{profile.name}: {profile.description}" if profile and profile.description else ""

    @on(DataTable.RowSelected, "#profiles")
    def action_fingerprint(self) -> None:
        """Read the fingerprint of the device under the cursor (in a worker)."""
        profile = self._current()
        if profile is None:
            return
        self.query_one("#fingerprint", Static).update(Text(f"reading {profile.name}'s fingerprint…", style="dim"))
        self._fingerprint(profile)

    @work(thread=True, exclusive=True, group="fingerprint")
    def _fingerprint(self, profile: DeviceProfile) -> None:
        from edge_bench.cli.devices_cmd import fingerprint_table
        from edge_bench.devices import open_transport

        try:
            with open_transport(profile) as transport:
                shown = fingerprint_table(profile, transport.info())
        except EdgeBenchError as exc:
            shown = Text(f"{profile.name}: {exc.one_line()}", style="red")
        self.app.from_worker(self._show_fingerprint, shown)

    def _show_fingerprint(self, shown) -> None:
        self.query_one("#fingerprint", Static).update(shown)

    def action_use(self) -> None:
        """Plan the next run on the device under the cursor."""
        profile = self._current()
        if profile is not None:
            self.post_message(DeviceChosen(profile.name))
