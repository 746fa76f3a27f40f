"""Modal screens: the help of the screen in front, and a yes/no question."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Static

GENERAL = """\
## Everywhere

- **1** … **6**: Devices, Plan, Run, Results, Compare, Export
- **?**: this help; **F1**: the keys of the focused widget
- **tab** / **shift+tab**: move between fields; **ctrl+p**: command palette
- **q**: quit (asks first while a run goes on)
"""


def screen_keys(screen: Screen) -> str:
    """One Markdown line listing the keys a screen binds itself (from its BINDINGS)."""
    keys = [f"**{b.key_display or b.key}** {b.description}" for b in getattr(screen, "BINDINGS", [])
            if getattr(b, "description", "")]
    return ("Keys here: " + " · ".join(keys)) if keys else ""


class HelpScreen(ModalScreen[None]):
    """What the screen in front shows, and its keys."""

    CSS_PATH = "modals.tcss"
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, about: Screen) -> None:
        super().__init__()
        self.about = about

    def compose(self) -> ComposeResult:
        from textual.widgets import Markdown  # markdown-it costs ~0.1 s to import: not at start-up

        text = getattr(self.about, "HELP", "") + "\n" + screen_keys(self.about) + "\n\n" + GENERAL
        with Vertical(id="help-dialog"):
            with VerticalScroll(id="help-body"):
                yield Markdown(text)
            yield Static("escape closes", classes="hint")


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; dismisses with the answer."""

    CSS_PATH = "modals.tcss"
    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-body"):
            yield Static(self.question, id="question")
            with Horizontal(id="confirm-buttons"):
                yield Button("Yes (y)", id="yes", variant="error")
                yield Button("No (n)", id="no", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        """Close with the answer."""
        self.dismiss(yes)
