"""The edge-bench Textual app: six screens over the same runner and store as the CLI.

Screens switch with the number keys (1 Devices, 2 Plan, 3 Run, 4 Results,
5 Compare, 6 Export); `?` explains the screen in front. Screens post messages
up (a plan to run, a comparison to show) and the app hands settings down to
the screen that acts on them.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.worker import get_current_worker

from edge_bench.store import Store
from edge_bench.tui.messages import CompareRequested, DeviceChosen, RunRequested, RunsMarked, StoreChanged
from edge_bench.tui.screens.compare import CompareScreen
from edge_bench.tui.screens.devices import DevicesScreen
from edge_bench.tui.screens.export import ExportScreen
from edge_bench.tui.screens.help import ConfirmScreen, HelpScreen
from edge_bench.tui.screens.plan import PlanScreen
from edge_bench.tui.screens.results import ResultsScreen
from edge_bench.tui.screens.run import RunScreen
from edge_bench.tui.settings import SCREEN_NAMES, TuiSettings

if TYPE_CHECKING:
    from edge_bench.runner.device_run import ExecutorFactory


class EdgeBenchApp(App[None]):
    """Run benchmarks on a device, watch them live, and compare what the store holds."""

    TITLE = "edge-bench"
    SUB_TITLE = "what distillation buys you on the device"
    CSS_PATH = "app.tcss"
    SCREENS = {"devices": DevicesScreen, "plan": PlanScreen, "run": RunScreen, "results": ResultsScreen,
               "compare": CompareScreen, "export": ExportScreen}
    BINDINGS = [
        *(Binding(str(i), f"show('{name}')", name.capitalize(), show=False) for i, name in enumerate(SCREEN_NAMES, 1)),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("f1", "show_help_panel", "Keys", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, settings: TuiSettings | None = None, executor_factory: ExecutorFactory | None = None) -> None:
        super().__init__()
        self.settings = settings or TuiSettings()
        self.executor_factory = executor_factory
        """What runs the Run screen's jobs: (profile, transport, local_root) -> Executor; None = the device's own."""

    @contextmanager
    def store(self) -> Iterator[Store]:
        """A connection of its own to the results store, for one worker; closed afterwards."""
        store = Store(self.settings.store_path)
        try:
            yield store
        finally:
            store.close()

    def from_worker(self, callback: Callable[..., object], *args: object) -> None:
        """From a worker thread: run `callback(*args)` on the event loop, unless a newer worker of the
        same group replaced this one (its result is stale) or the app has stopped."""
        if get_current_worker().is_cancelled or not self.is_running:
            return
        self.call_from_thread(callback, *args)

    def on_mount(self) -> None:
        self.push_screen(self.settings.start_screen)
        self._warm_imports()

    @work(thread=True, group="warm-up")
    def _warm_imports(self) -> None:
        """Import the plot widget's library off the event loop, before the Compare screen needs it."""
        import textual_plotext  # noqa: F401  (imported for its side effect)

    def action_show(self, name: str) -> None:
        """Bring one of the six screens to the front."""
        if self.screen is not self.get_screen(name):
            self.switch_screen(name)

    def action_help(self) -> None:
        """Explain the screen in front and its keys."""
        if not isinstance(self.screen, (HelpScreen, ConfirmScreen)):
            self.push_screen(HelpScreen(self.screen))

    async def action_quit(self) -> None:
        """Quit; while a run goes on, ask first (its current job finishes before the process ends)."""
        run = self.get_screen("run")
        if not run.running:
            self.exit()
            return

        def answer(yes: bool | None) -> None:
            """Cancel and quit on yes; carry on otherwise."""
            if yes:
                run.action_cancel()
                self.exit()

        self.push_screen(ConfirmScreen("A run is in progress. Cancel it and quit? The job on the device now "
                                       "finishes first (edge-bench exits when it ends)."), answer)

    def on_run_requested(self, message: RunRequested) -> None:
        run = self.get_screen("run")
        if run.running:
            self.notify("A run is already in progress (see screen 3).", severity="warning")
            return
        self.action_show("run")
        run.start(message.plan, message.devices)

    def on_device_chosen(self, message: DeviceChosen) -> None:
        self.get_screen("plan").choose_device(message.device)
        self.notify(f"The plan now runs on {message.device}.")

    def on_compare_requested(self, message: CompareRequested) -> None:
        self.get_screen("compare").request(message.axis, message.a, message.b)
        self.action_show("compare")

    def on_runs_marked(self, message: RunsMarked) -> None:
        self.get_screen("export").runs = message.runs

    def on_store_changed(self, message: StoreChanged) -> None:
        for name in ("plan", "results", "compare", "export"):
            self.get_screen(name).stale = True
