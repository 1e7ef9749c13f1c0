"""The debugging commands: inspect the iterations, edit a pending tool call, set breakpoints; answers at a breakpoint."""

from __future__ import annotations

from tui_agent.commands import Answer
from tui_agent.tui.screens.breakpoints import BreakpointsScreen
from tui_agent.tui.screens.edit_call import EditCallScreen
from tui_agent.tui.screens.inspector import InspectorScreen


class DebugActions:
    """Mixed into AgentApp; uses its `agent_run`, `state`, `trace`, `main` and `replaying`."""

    def session_folder(self):
        """The session folder of the run (for a replay: the recorded one), or None."""
        return self.agent_run.session_dir if self.agent_run is not None else None

    def answer_call(self, call_id: str, action: str, arguments: dict | None = None) -> bool:
        """Answer a tool call: now if it is asked, or ahead if the loop is paused at a breakpoint before asking."""
        if self._no_run():
            return False
        reply = self.agent_run.send(Answer(call_id, action, arguments))
        if not reply.ok:
            self.notify(reply.note[:1].upper() + reply.note[1:] + ".", severity="warning")
            return False
        if reply.note == "ahead":  # at a breakpoint: not asked yet
            self.state.answered_ahead[call_id] = action + (" (edited)" if arguments is not None else "")
            self.state.dirty.add("perms")
            self.notify(f"Answered ahead: {action}{' with your edit' if arguments is not None else ''}. "
                        "It takes effect when the loop goes on: p resumes, s steps.", timeout=10)
            self.refresh_views()
        return True

    # --- inspector -----------------------------------------------------------------------

    def action_inspect(self) -> None:
        if isinstance(self.screen, InspectorScreen):
            self.screen.dismiss()
            return
        self.push_screen(InspectorScreen(self.trace, session=self.session_folder(),
                                         iteration=self.state.iteration or None))

    def refresh_inspector(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, InspectorScreen) and screen.is_mounted:
                screen.refresh_items()

    # --- edit before it runs -------------------------------------------------------------

    def action_edit(self) -> None:
        call_id = self.main.permissions.selected
        if call_id is None or call_id not in self.state.pending:
            self.notify("No tool call is waiting: nothing to edit.")
            return
        if self.replaying:
            self.notify("This is a replay: nothing runs, so there is nothing to edit.", severity="warning")
            return
        at_breakpoint = self.state.paused  # the loop waits at a point before asking: the answer is given ahead
        self.push_screen(EditCallScreen(self.state.pending[call_id], at_breakpoint=at_breakpoint),
                         lambda arguments: self._edited(call_id, arguments))

    def _edited(self, call_id: str, arguments: dict | None) -> None:
        if arguments is None:
            self.notify("Edit cancelled: the call still waits for you.", timeout=3)
            return
        if self.answer_call(call_id, "allow", arguments) and call_id not in self.state.answered_ahead:
            self.notify("Allowed with your edit.", timeout=3)

    # --- breakpoints ---------------------------------------------------------------------

    def action_breakpoints(self) -> None:
        if self._no_run():
            return
        note = "This is a replay: breakpoints apply to live runs, not to recorded events." if self.replaying else ""
        self.push_screen(BreakpointsScreen(self.agent_run.breakpoints(), note=note))

    def on_breakpoints_screen_changed(self, message: BreakpointsScreen.Changed) -> None:
        reply = self.agent_run.send(message.command)
        error = "" if reply.ok else reply.note
        message.dialog.shown(message.command, self.agent_run.breakpoints(), error)
