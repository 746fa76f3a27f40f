"""Plan: which models, backends, precisions and dataset to run on which device; what is already converted."""

from __future__ import annotations

from dataclasses import fields

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Header, Input, Select, SelectionList, Static

from edge_bench.agent.spec import Protocol
from edge_bench.errors import EdgeBenchError
from edge_bench.tui.messages import RunRequested
from edge_bench.tui.plan_form import DATASETS, PlanForm
from edge_bench.tui.screens.stored import StoredView
from edge_bench.tui.widgets.form import TickList, labelled
from edge_bench.tui.widgets.nav import ScreenNav
from edge_bench.tui.widgets.plan_jobs import ConvertedTable, PlanJobsTable

BACKENDS = ("executorch", "tflite", "coreml")
PRECISIONS = ("fp32", "fp16", "int8", "int8-dynamic")
NUMBER_FIELDS = (("n_images", "n images", "all"), ("gallery_batch", "gallery batch", ""),
                 ("threads", "threads", "the profile's"))
NUMBERS = tuple(name for name, _, _ in NUMBER_FIELDS)


class PlanScreen(StoredView):
    """A form for a RunPlan, the jobs it expands to, and the converter cache."""

    CSS_PATH = "plan.tcss"
    HELP = """\
## Plan

Choose what to benchmark: the device (tick more under "also on" to run the
plan on all of them at once, one job at a time each: a lab run), the models of the zoo, the backends
(none ticked = every backend the device profile lists), the precisions, and
the dataset's test split (the synthetic set needs no download; Flickr30k and
MSCOCO need their Karpathy JSON and images in a folder). `n images` keeps only
the first N test images; the protocol fields set warm-up and timed runs.

The right side lists the jobs the plan makes, whether each one's artifacts
are already in the converter cache, and everything converted so far.

- **ctrl+r**: run the plan (the Run screen shows it live).
"""
    BINDINGS = [Binding("ctrl+r", "run", "Run plan", priority=True)]

    def __init__(self) -> None:
        super().__init__()
        self.form = PlanForm.from_plan(self.app.settings.plan)
        self.device_backends: dict[str, list[str]] = {}
        self.offered: dict[str, tuple[str, ...]] = {}
        self.converted: dict = {}

    def compose(self) -> ComposeResult:
        form = self.form
        yield Header()
        yield ScreenNav("plan")
        with Horizontal():
            with VerticalScroll(id="plan-form") as left:
                left.border_title = "Plan"
                yield labelled("device", Select([(form.device, form.device)], value=form.device, allow_blank=False,
                                                id="device", compact=True), inline=True)
                yield labelled("also on (a lab run: every device at once)",
                               TickList(form.also_on, form.also_on, id="also-on"))
                yield labelled("models", TickList(form.models, form.models, id="models"))
                with Horizontal(classes="ticks"):
                    yield labelled("backends (none = all)", TickList(BACKENDS, form.backends, id="backends"))
                    yield labelled("precisions", TickList(PRECISIONS, form.precisions, id="precisions"))
                yield labelled("dataset", Select([(d, d) for d in DATASETS], value=form.dataset, allow_blank=False,
                                                 id="dataset", compact=True), inline=True)
                yield labelled("data folder", Input(form.data_dir, placeholder="Karpathy JSON + images",
                                                    id="data_dir", compact=True), inline=True)
                for name, label, hint in NUMBER_FIELDS:
                    yield labelled(label, Input(getattr(form, name), placeholder=hint, id=name, compact=True),
                                   inline=True)
                for f in fields(Protocol):
                    yield labelled(f.name.replace("_", " "), Input(form.protocol[f.name], id=f.name, compact=True),
                                   inline=True)
                yield Button("Run plan (ctrl+r)", id="run", variant="success", compact=True)
            with Vertical(id="plan-side"):
                yield PlanJobsTable(id="jobs")
                yield ConvertedTable(id="converted")
        yield Static("", id="plan-error", classes="error")
        yield Footer()

    def on_mount(self) -> None:
        self._load()
        self.reload()
        self._preview()

    @work(thread=True, exclusive=True, group="plan-load")
    def _load(self) -> None:
        """Profiles and backends first (quick), then the zoo (it imports torch)."""
        from edge_bench.converters import get_converter, list_backends
        from edge_bench.devices import scan_profiles
        from edge_bench.models import list_models

        profiles, _ = scan_profiles()
        offered = {b: tuple(get_converter(b).precisions) for b in list_backends()}
        self.app.from_worker(self._fill, {p.name: list(p.backends) for p in profiles}, offered)
        try:
            models = list_models()
        except EdgeBenchError as exc:
            self.app.from_worker(self._show_error, exc.one_line())
            return
        self.app.from_worker(self._fill_models, models)

    @work(thread=True, exclusive=True, group="plan-converted")
    def reload(self) -> None:
        """The converter cache's artifact sets (a run may have added some)."""
        from edge_bench.tui.artifacts import converted_index, converted_sets

        sets = converted_sets()
        self.app.from_worker(self._fill_converted, sets, converted_index(sets))

    def _fill(self, device_backends: dict[str, list[str]], offered: dict) -> None:
        self.device_backends, self.offered = device_backends, offered
        select = self.query_one("#device", Select)
        names = sorted(set(device_backends) | {self.form.device})
        select.set_options([(n, n) for n in names])
        select.value = self.form.device
        self.query_one("#also-on", TickList).refill(names, self.form.also_on)
        self.query_one("#backends", TickList).refill(offered)
        self._preview()

    def _fill_models(self, models: list[str]) -> None:
        self.query_one("#models", TickList).refill(models)

    def _fill_converted(self, sets: list, index: dict) -> None:
        self.converted = index
        self.query_one(ConvertedTable).show(sets)
        self._preview()

    def choose_device(self, name: str) -> None:
        """Plan on this device (from the Devices screen)."""
        self.form.device = name
        if self.is_mounted:
            select = self.query_one("#device", Select)
            if name not in self.device_backends:
                select.set_options([(n, n) for n in sorted({*self.device_backends, name})])
            select.value = name

    def read_form(self) -> PlanForm:
        """The form as the widgets hold it now."""
        value = lambda wid: self.query_one(f"#{wid}", Input).value  # noqa: E731  (a one-line local helper reads better as a lambda)
        return PlanForm(
            device=str(self.query_one("#device", Select).value), also_on=self.query_one("#also-on", TickList).ticked,
            models=self.query_one("#models", TickList).ticked,
            backends=self.query_one("#backends", TickList).ticked,
            precisions=self.query_one("#precisions", TickList).ticked,
            dataset=str(self.query_one("#dataset", Select).value), data_dir=value("data_dir"),
            **{name: value(name) for name in NUMBERS},
            protocol={f.name: value(f.name) for f in fields(Protocol)},
        )

    @on(SelectionList.SelectedChanged)
    @on(Select.Changed)
    def _preview(self) -> None:
        if not self.is_mounted:
            return
        form = self.read_form()
        self.form = form
        backends = list(form.backends) or self.device_backends.get(form.device, [])
        table = self.query_one(PlanJobsTable)
        table.show(form, backends, self.device_backends.get(form.device), self.offered, self.converted)
        if len(form.devices) > 1:
            table.border_subtitle += f" on {form.device}; a lab run on {', '.join(form.devices)}"

    def _show_error(self, text: str) -> None:
        self.query_one("#plan-error", Static).update(text)

    @on(Button.Pressed, "#run")
    def action_run(self) -> None:
        """Check the form and ask the app to run it."""
        form = self.read_form()
        try:
            plan = form.to_plan(self.app.settings.plan.weights)
        except EdgeBenchError as exc:
            self._show_error(exc.one_line())
            self.notify(exc.one_line(), severity="error", title="Plan")
            return
        self._show_error("")
        self.post_message(RunRequested(plan, form.devices if len(form.devices) > 1 else ()))
