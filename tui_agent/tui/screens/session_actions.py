"""The main screen's key for the session browser (v): the same screen as `tui-agent` alone, over this one.

Only once nothing runs (the run is over, or this is a replay): the chosen replay, resume or fork is then run by the
CLI after this app has ended, never beside a live run (one bill, one sandbox, one window per run)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui_agent.tui.sessions_app import Choice

LIVE = "This run is still going: stop it (x) or let it end, then v opens the sessions."


class SessionActions:
    """Mixed into MainScreen (which provides state, settings, replay and the app)."""

    def action_sessions(self) -> None:
        if not self.replay and self.state.finished is None:  # type: ignore[attr-defined]
            self.notify(LIVE, severity="warning")  # type: ignore[attr-defined]
            return
        from tui_agent.tui.sessions_app import SessionsScreen

        self.app.clear_notifications()  # type: ignore[attr-defined]
        run = self.run  # type: ignore[attr-defined]
        # the folder of this run's own session (a replayed one's too), else where the settings keep them
        root = run.session_dir.parent if run is not None else self.settings.session_root  # type: ignore[attr-defined]
        self.app.push_screen(SessionsScreen(root, folder=self.settings.project),  # type: ignore[attr-defined]
                             self._session_chosen)

    def _session_chosen(self, choice: Choice | None) -> None:
        if choice is not None:  # this app ends as quit does, then the CLI runs the choice
            self.app.next_command = choice.argv()  # type: ignore[attr-defined]
            self.app.call_later(self.app.action_quit)  # type: ignore[attr-defined]
