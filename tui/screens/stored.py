"""The base of screens that show what a run writes: they reload when shown again after a run."""

from __future__ import annotations

from textual.screen import Screen


class StoredView(Screen):
    """A screen over the results store (or the converter cache); the app sets `stale` when a run ends."""

    def __init__(self) -> None:
        super().__init__()
        self.stale = False
        """A run ended since the screen last read its data."""

    def on_screen_resume(self) -> None:
        if self.stale:
            self.stale = False
            self.reload()

    def reload(self) -> None:
        """Read the data again (in a worker)."""
        raise NotImplementedError

    def action_reload(self) -> None:
        """Read the data again (the screens bind it to r)."""
        self.reload()
