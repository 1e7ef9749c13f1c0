"""The main screen: status line, Plan and Output on the left, Fixes and Permissions on the right; the person's keys."""

from __future__ import annotations

import asyncio
from typing import Callable, TypeVar, cast

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget

from tui_agent.commands import (ANSWERS, Answer, Command, Deploy, Pause, Reply, RestartServers, Resume, SetMode, Step,
                                Stop)
from tui_agent.config import Settings
from tui_agent.handle import RunHandle
from tui_agent.tui.keys import MAIN, bindings
from tui_agent.tui.screens.hunk_actions import HunkActions
from tui_agent.tui.screens.session_actions import SessionActions
from tui_agent.tui.startup import settle_heap
from tui_agent.tui.state import RunState
from tui_agent.tui.trace import Trace
from tui_agent.tui.widgets.fixes import FixesPanel
from tui_agent.tui.widgets.footer import KeysFooter
from tui_agent.tui.widgets.output_log import OutputLog
from tui_agent.tui.widgets.permissions import PermissionsPanel
from tui_agent.tui.widgets.plan import PlanPanel
from tui_agent.tui.widgets.status import StatusLine

W = TypeVar("W", bound=Widget)

NARROW = 120  # below this many columns the layout gives the Output panel more room


class MainScreen(HunkActions, SessionActions, Screen[None]):
    """The app hands down the run (`run`, None until it is built), the folded `state` and the `trace`; the
    screen sends the person's commands to the run and posts Sent. Its styles/main.tcss is loaded by the app."""

    BINDINGS = bindings(MAIN)
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)  # a focus change repaints its panels, not all

    def __init__(self, settings: Settings, state: RunState, trace: Trace, *, on_ready: Callable[[], None],
                 max_output_lines: int = 20_000, replay: bool = False) -> None:
        super().__init__()
        settle_heap()  # what the imports made: no full collection stalls the compose or the first paint
        self.settings, self.state, self.trace, self.replay = settings, state, trace, replay
        self.on_ready, self.max_output_lines = on_ready, max_output_lines  # on_ready: the panels exist (before a frame)
        self.run: RunHandle | None = None
        self.ready = False  # its panels exist (set in on_mount, before is_mounted turns true)
        self.deploy_process: asyncio.subprocess.Process | None = None
        self._found: dict[type, Widget] = {}

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        with Horizontal(id="panels"):
            with Vertical(id="left"):
                yield PlanPanel(id="plan")
                yield OutputLog(self.max_output_lines, id="output")
            with Vertical(id="right"):
                yield FixesPanel(id="fixes")
                yield PermissionsPanel(id="permissions")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.output.border_title = "2 Output"
        self.ready = True
        settle_heap()  # the panels, their styles and bindings: kept as long as the screen
        self.on_ready()

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW, "-narrow")

    def _one(self, kind: type[W]) -> W:
        """A panel, found once (a query walks the whole screen, and the panels are asked for on every batch)."""
        found = self._found.get(kind)
        if found is None:
            found = self._found[kind] = self.query_one(kind)
        return cast(W, found)

    @property
    def status(self) -> StatusLine:
        return self._one(StatusLine)

    @property
    def plan(self) -> PlanPanel:
        return self._one(PlanPanel)

    @property
    def output(self) -> OutputLog:
        return self._one(OutputLog)

    @property
    def fixes(self) -> FixesPanel:
        return self._one(FixesPanel)

    @property
    def permissions(self) -> PermissionsPanel:
        return self._one(PermissionsPanel)

    # --- which keys apply now (hidden: False, shown dimmed: None) ------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        state, run = self.state, self.run
        live = run is not None and state.finished is None
        if action in ("pause", "resume"):
            if (action == "pause") == (state.paused or state.pause_requested):
                return False
            return True if live else None
        if action in ("step", "stop"):
            return True if live else None
        if action in ANSWERS or action == "edit":
            return True if (state.pending or state.questions) and not self.replay else None
        if action == "restart_servers":
            return any(srv.state == "failed" for srv in state.servers)  # shown only when a server has failed
        if action == "deploy":
            if self.replay:
                return True if run is not None else None  # says, in the core's words, that it is a replay
            return True if state.deploy_ready is not None and state.deployed is None else None
        return True

    # --- the person's commands -----------------------------------------------------------

    class Sent(Message):
        """A command went to the run: the app folds what it emitted at once."""

    def send(self, command: Command, *, warn: bool = True) -> Reply:
        """Send a command to the run; say why, when it was not taken."""
        if self.run is None:
            reply = Reply(False, "no run to control yet (the sandbox is starting)")
        else:
            reply = self.run.send(command)
            self.post_message(self.Sent())
        if not reply.ok and warn:
            self.notify(reply.note[:1].upper() + reply.note[1:] + ".", severity="warning")
        return reply

    def action_pause(self) -> None:
        if self.send(Pause()).ok:
            self.state.pause_requested = True

    def action_resume(self) -> None:
        self.state.pause_requested = False
        self.send(Resume())

    def action_step(self) -> None:
        self.send(Step())

    def action_stop(self) -> None:
        if self.state.finished is None and self.send(Stop("stopped by the person")).ok:
            self.state.stop_requested = True

    def _answer(self, action: str, arguments: dict[str, object] | None = None) -> bool:
        call_id = self.permissions.selected
        if call_id in self.state.questions:  # an MCP server's question: y answers, n declines
            from tui_agent.tui.screens.question import answer_question  # loaded when first used
            return answer_question(self, self.state.questions[call_id], action)
        if call_id is None:
            self.notify("No tool call is waiting for you.")
            return False
        reply = self.send(Answer(call_id, action, arguments))
        if reply.note == "ahead":  # the loop is paused before asking: it takes this answer when it goes on
            edit = " with your edit" if arguments is not None else ""
            self.state.answered_ahead[call_id] = action + (" (edited)" if edit else "")
            self.state.dirty.add("perms")
            self.notify(f"Answered ahead: {action}{edit}. It takes effect when the loop goes on: "
                        "p resumes, s steps.", timeout=10)
        return reply.ok

    def action_allow(self) -> None:
        self._answer("allow")

    def action_always(self) -> None:
        self._answer("always")

    def action_deny(self) -> None:
        self._answer("deny")

    def action_edit(self) -> None:
        call_id = self.permissions.selected
        if call_id is None or call_id not in self.state.pending:
            self.notify("No tool call is waiting: nothing to edit.")
            return
        if self.state.pending[call_id].shortened:
            self.notify("This call's arguments are too long to edit here (they are shown shortened): allow or deny it.")
            return
        from tui_agent.tui.screens.edit_call import EditCallScreen  # loaded when first used: a faster first paint

        at_breakpoint = self.state.paused  # the loop waits at a point before asking: the answer is given ahead
        self.app.push_screen(EditCallScreen(self.state.pending[call_id], at_breakpoint=at_breakpoint),
                             self._edited)

    def _edited(self, arguments: dict[str, object] | None) -> None:
        if arguments is None:
            self.notify("Edit cancelled: the call still waits for you.", timeout=3)
        elif self._answer("allow", arguments) and not self.state.answered_ahead:
            self.notify("Allowed with your edit.", timeout=3)

    def action_restart_servers(self) -> None:
        names = tuple(srv.name for srv in self.state.servers if srv.state == "failed")
        if names and self.send(RestartServers(names)).ok:
            self.state.restarting |= set(names)
            self.notify(f"Restarting MCP server{'s' if len(names) > 1 else ''}: {', '.join(names)}", timeout=5)

    def action_cycle_mode(self) -> None:
        modes = ("auto", "ask", "plan")
        current = self.state.mode if self.state.mode in modes else "auto"
        self.send(SetMode(modes[(modes.index(current) + 1) % len(modes)]))

    def action_breakpoints(self) -> None:
        from tui_agent.tui.screens.breakpoints import BreakpointsScreen
        if self.run is not None:
            note = "This is a replay: breakpoints apply to live runs, not to recorded events." if self.replay else ""
            self.app.push_screen(BreakpointsScreen(self.run.breakpoints(), note=note))

    def action_inspect(self) -> None:
        from tui_agent.tui.screens.inspector import InspectorScreen
        session = self.run.session_dir if self.run is not None else None
        self.app.push_screen(InspectorScreen(self.trace, session=session, iteration=self.state.iteration or None))

    # --- the deploy gate -----------------------------------------------------------------

    def action_deploy(self) -> None:
        state = self.state
        if self.replay:
            self.send(Deploy(), warn=False)  # a replay refuses, in its own words
            return
        if state.deploy_ready is None:
            self.notify("Nothing to deploy yet: the check must pass first.", severity="warning")
            return
        from tui_agent.tui.screens.deploy import Checklist, DeployScreen

        self.app.clear_notifications()  # nothing may cover the dialog's buttons
        checklist = Checklist.of(state, self.settings)
        self.app.push_screen(DeployScreen(state.deploy_ready.diff, checklist), self._deploy_answered)

    def _deploy_answered(self, include: tuple[str, ...] | None) -> None:
        if include is None:
            self.notify("Deploy cancelled: your folder was not changed.")
        elif self.send(Deploy(include), warn=False).ok and self.settings.deploy_command:  # Deployed or Refused
            from tui_agent.tui.deploy_command import run_deploy_command
            self.run_worker(run_deploy_command(self, self.settings.deploy_command), group="deploy", exit_on_error=False)

    async def stop_deploy_command(self) -> None:
        proc = self.deploy_process
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()

    # --- focus and browsing --------------------------------------------------------------

    def action_focus_panel(self, panel: str) -> None:
        self.focus_target(panel).focus()

    def focus_target(self, panel: str) -> Widget:
        if panel == "plan":
            return self.plan
        if panel == "output":
            return self.output
        if panel == "fixes":
            return self.fixes.body
        perms = self.permissions
        return perms.options if perms.pending or perms.questions else perms.query_one("#perm-body")

    def action_browse(self, delta: int) -> None:
        if not self.fixes.browse(delta):
            self.notify("No earlier fix." if delta < 0 else "This is the latest fix.", timeout=2)

    def action_cumulative(self) -> None:
        fixes = self.fixes
        fixes.toggle_cumulative(None if fixes.cumulative else self.changes())

    def changes(self) -> str:
        """Every change since the start: the offered deploy's diff, else the run's workspace now."""
        if self.state.deploy_ready is not None:
            return self.state.deploy_ready.diff
        if self.run is None:
            return ""
        try:
            return self.run.changes()
        except Exception as exc:  # the run is being closed
            return f"(the cumulative diff is not available: {exc})"

    def action_cause(self) -> None:
        fix = self.fixes.current
        if fix is None or fix.cause is None:
            self.notify("No fix shown, so no failing output to show.", timeout=3)
        elif self.output.jump(f"check-{fix.cause.iteration}"):
            self.output.focus()
        else:
            self.notify("That output is no longer kept (the output log is bounded).", severity="warning")

    def action_zoom(self) -> None:
        if self.maximized is not None:
            self.minimize()
        elif self.focused is not None:
            self.maximize(self.focused)
