"""Edit one hunk's new text before it lands (a TextArea); ctrl+s keeps the edit, escape drops it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, TextArea

from tui_agent.tui.safe import safe
from tui_agent.tui.screens.deploy import _name
from tui_agent.tui.style_paths import style


class HunkEditScreen(ModalScreen["str | None"]):
    CSS_PATH = style("hunks.tcss")
    BINDINGS = [
        Binding("ctrl+s", "save", "Keep the edit", priority=True),
        Binding("escape", "cancel", "Drop the edit"),
    ]

    def __init__(self, path: str, index: int, text: str) -> None:
        super().__init__()
        self.path, self.index, self.text = path, index, text

    def compose(self) -> ComposeResult:
        with Vertical(id="hunk-edit-dialog"):
            yield Label(safe(f"{_name(self.path)}, hunk {self.index + 1}: the lines it puts in place "
                             "(ctrl+s keeps, escape drops)", newlines=False))
            yield TextArea(self.text, id="hunk-edit", soft_wrap=False)

    def on_mount(self) -> None:
        self.query_one("#hunk-edit", TextArea).focus()

    def action_save(self) -> None:
        text = self.query_one("#hunk-edit", TextArea).text
        self.dismiss(text if not text or text.endswith("\n") or not self.text.endswith("\n") else text + "\n")

    def action_cancel(self) -> None:
        self.dismiss(None)
