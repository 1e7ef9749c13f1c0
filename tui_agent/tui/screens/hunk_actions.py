"""The main screen's keys for the per-hunk review (h) and undo (u): a mixin, so the main screen stays small; what it
uses of the screen is the HunkHost protocol (its methods take `self` as one), not untyped attributes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from tui_agent.commands import Command, Reply, Undo

if TYPE_CHECKING:
    from textual.app import App
    from textual.notifications import SeverityLevel

    from tui_agent.config import Settings
    from tui_agent.handle import RunHandle
    from tui_agent.tui.state import RunState


class HunkHost(Protocol):
    """What the keys use of MainScreen (tests/tui/test_tui_hunks.py has mypy check that it is one)."""

    @property
    def state(self) -> RunState: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def replay(self) -> bool: ...
    @property
    def run(self) -> RunHandle | None: ...
    @property
    def app(self) -> App[Any]: ...

    def send(self, command: Command, *, warn: bool = True) -> Reply: ...
    def notify(self, message: str, *, severity: SeverityLevel = "information") -> None: ...


class HunkActions:
    """Mixed into MainScreen."""

    def action_hunks(self: HunkHost) -> None:
        ready = self.state.deploy_ready
        if self.replay or ready is None:
            self.notify("Nothing to review yet: the check must pass first.", severity="warning")
            return
        if not ready.review:
            self.notify("This run offers no per-hunk review; d deploys it whole.", severity="warning")
            return
        from tui_agent.tui.screens.hunks import HunkReviewScreen

        self.app.clear_notifications()
        project = self.state.project or str(self.settings.project)
        self.app.push_screen(HunkReviewScreen(ready.review, project, run=self.run, send=self.send))

    def action_undo(self: HunkHost) -> None:
        if self.replay:
            self.notify("A replay changes nothing, so there is nothing to undo.", severity="warning")
            return
        self.send(Undo(), warn=False)
