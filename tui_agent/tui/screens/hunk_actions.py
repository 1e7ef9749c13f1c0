"""The main screen's keys for the per-hunk review (h) and undo (u): a mixin, so the main screen stays small."""

from __future__ import annotations

from tui_agent.commands import Undo


class HunkActions:
    """Mixed into MainScreen (which provides state, settings, replay, send)."""

    def action_hunks(self) -> None:
        ready = self.state.deploy_ready  # type: ignore[attr-defined]
        if self.replay or ready is None:  # type: ignore[attr-defined]
            self.notify("Nothing to review yet: the check must pass first.", severity="warning")  # type: ignore
            return
        if not ready.review:
            self.notify("This run offers no per-hunk review; d deploys it whole.", severity="warning")  # type: ignore
            return
        from tui_agent.tui.screens.hunks import HunkReviewScreen

        self.app.clear_notifications()  # type: ignore[attr-defined]
        project = self.state.project or str(self.settings.project)  # type: ignore[attr-defined]
        self.app.push_screen(HunkReviewScreen(ready.review, project, run=self.run,  # type: ignore[attr-defined]
                                             send=self.send))  # type: ignore[attr-defined]

    def action_undo(self) -> None:
        if self.replay:  # type: ignore[attr-defined]
            self.notify("A replay changes nothing, so there is nothing to undo.", severity="warning")  # type: ignore
            return
        self.send(Undo(), warn=False)  # type: ignore[attr-defined]
