"""The main screen: status line, Plan and Output on the left, Fixes and Permissions on the right, footer."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from tui_agent.tui.widgets.fixes import FixesPanel
from tui_agent.tui.widgets.output_log import OutputLog
from tui_agent.tui.widgets.permissions import PermissionsPanel
from tui_agent.tui.widgets.plan import PlanPanel
from tui_agent.tui.widgets.status import StatusLine

NARROW = 120  # below this many columns the layout gives the Output panel more room


class MainScreen(Screen):
    """Its stylesheet, styles/main.tcss, is loaded by the app (Textual ignores a default screen's CSS_PATH)."""

    def __init__(self, max_output_lines: int = 20_000) -> None:
        super().__init__()
        self.max_output_lines = max_output_lines
        self.ready = False  # its panels exist (set in on_mount, before is_mounted turns true)

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        with Horizontal(id="panels"):
            with Vertical(id="left"):
                yield PlanPanel(id="plan")
                yield OutputLog(self.max_output_lines, id="output")
            with Vertical(id="right"):
                yield FixesPanel(id="fixes")
                yield PermissionsPanel(id="permissions")
        yield Footer()

    def on_mount(self) -> None:
        self.output.border_title = "2 Output"
        self.ready = True
        begin = getattr(self.app, "begin", None)
        if begin is not None:
            begin()

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW, "-narrow")

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    @property
    def plan(self) -> PlanPanel:
        return self.query_one(PlanPanel)

    @property
    def output(self) -> OutputLog:
        return self.query_one(OutputLog)

    @property
    def fixes(self) -> FixesPanel:
        return self.query_one(FixesPanel)

    @property
    def permissions(self) -> PermissionsPanel:
        return self.query_one(PermissionsPanel)

    def focus_target(self, panel: str) -> Widget:
        if panel == "plan":
            return self.plan
        if panel == "output":
            return self.output
        if panel == "fixes":
            return self.fixes.body
        perms = self.permissions
        return perms.options if perms.pending else perms.query_one("#perm-body")
