"""Small form building blocks: a labelled field, and a selection list that can be refilled keeping its ticks."""

from __future__ import annotations

from typing import Iterable

from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Label, SelectionList


def labelled(label: str, widget: Widget, inline: bool = False) -> Vertical | Horizontal:
    """A label above (or, inline, left of) a widget, in one container the form's CSS lays out."""
    if inline:
        return Horizontal(Label(label, classes="field-label"), widget, classes="field inline")
    return Vertical(Label(label, classes="field-label"), widget, classes="field")


class TickList(SelectionList[str]):
    """A SelectionList of strings whose options can be replaced while the ticked values stay ticked."""

    def __init__(self, values: Iterable[str] = (), ticked: Iterable[str] = (), **kwargs) -> None:
        ticked = set(ticked)
        super().__init__(*((v, v, v in ticked) for v in values), compact=True, **kwargs)

    def refill(self, values: Iterable[str], extra_ticked: Iterable[str] = ()) -> None:
        """Show these values; what was ticked (plus `extra_ticked`) stays ticked where still offered."""
        keep = set(self.selected) | set(extra_ticked)
        self.clear_options()
        self.add_options([(v, v, v in keep) for v in values])

    @property
    def ticked(self) -> tuple[str, ...]:
        """The ticked values, in the list's order."""
        chosen = set(self.selected)
        return tuple(self.get_option_at_index(i).value for i in range(self.option_count)
                     if self.get_option_at_index(i).value in chosen)
