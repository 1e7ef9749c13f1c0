"""The floor bench_tui.py measures against: a bare Textual app of four bordered panels.

    python bench/bare_tui.py        (what `tui-agent demo` is compared with: same interpreter, same terminal)

Keys 1-4 focus a panel (the same action name as the real app's main screen); ctrl+q quits.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

CSS = """
.panel { border: round $secondary; height: 1fr; width: 1fr; }
.panel:focus { border: round $accent; }
"""
PANELS = (("plan", "1 Plan"), ("output", "2 Output"), ("fixes", "3 Fixes"), ("permissions", "4 Permissions"))


class BareApp(App[int]):
    CSS = CSS
    BINDINGS = [Binding("ctrl+q", "quit", "Quit"),
                *(Binding(str(i + 1), f"focus_panel('{name}')", title) for i, (name, title) in enumerate(PANELS))]

    @property
    def main(self) -> BareApp:  # bench_tui drives the keys of `app.main`, as in the real app
        return self

    def compose(self) -> ComposeResult:
        panels = []
        for name, title in PANELS:
            panel = Static("", id=name, classes="panel")
            panel.border_title, panel.can_focus = title, True
            panels.append(panel)
        with Horizontal():
            with Vertical():
                yield panels[0]
                yield panels[2]
            yield panels[1]
            yield panels[3]

    def action_focus_panel(self, panel: str) -> None:
        self.query_one(f"#{panel}").focus()


if __name__ == "__main__":
    BareApp().run()
