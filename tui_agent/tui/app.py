"""AgentApp: builds the run (a RunHandle), folds its events into the main screen in batches, ends it cleanly."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Awaitable, Callable, Iterable

from textual.events import Key
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker

from tui_agent.commands import Stop
from tui_agent.config import Settings
from tui_agent.handle import RunHandle
from tui_agent.tui.keys import MAIN, QUIT, palette
from tui_agent.tui.leave import leave
from tui_agent.tui.prompt_commands import PromptCommands
from tui_agent.tui.safe import SafeNotify
from tui_agent.tui.said import Heading, LogText, Notice
from tui_agent.tui.servers_view import ServersView
from tui_agent.tui.screens.main import MainScreen
from tui_agent.tui.startup import given, prepare_run
from tui_agent.tui.state import RunState
from tui_agent.tui.style_paths import style
from tui_agent.tui.trace import Trace
from tui_agent.tui.widgets.output_log import grouped

if TYPE_CHECKING:  # the inspector, breakpoints and deploy screens load when first opened; events with the first one
    from tui_agent.events import Event, Finished
    from tui_agent.tui.screens.breakpoints import BreakpointsScreen

DRAIN_S = 1 / 20  # events are folded into the screen at most this often
THEMES = {"dark": "textual-dark", "light": "textual-light"}


class AgentApp(SafeNotify, App[int]):
    """`start` builds the run (default: runner.prepare); `run` is one built already (e.g. a ReplayRun);
    `replay` shows recorded events with no run at all (snapshots). The keys are the main screen's."""

    CSS_PATH = [style("app.tcss"), style("main.tcss")]  # Textual skips CSS_PATH of a default screen
    TITLE = "tui-agent"
    COMMANDS = App.COMMANDS | {PromptCommands}  # `Prompt SERVER/NAME`: a ready MCP server's prompts
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", tooltip=QUIT.help)]  # also shown over the main screen's

    def __init__(self, settings: Settings, *, start: Callable[[], Awaitable[RunHandle]] | None = None,
                 replay: Iterable[Event] | None = None, resume_dir: Path | None = None, fork_at: int | None = None,
                 clock: Callable[[], float] = time.monotonic, max_output_lines: int = 20_000,
                 run: RunHandle | None = None) -> None:
        super().__init__()
        self.settings, self.clock = settings, clock
        self._start = start or ((lambda: given(run)) if run is not None else
                                (lambda: prepare_run(settings, resume_dir, fork_at)))
        self.replaying = run is not None and run.replay  # a recorded session played again: nothing runs
        if run is not None and run.replay:
            self.title = f"tui-agent · REPLAY of {run.session_dir.name}"
        self.replay = list(replay) if replay is not None else None
        self.state = RunState(replay=self.replaying)
        self.servers_view = ServersView(self.state, run=self._servers_run, shown=self._servers_shown,
                                        notify=self.notify)
        self.trace = Trace()  # what the inspector shows
        self.max_output_lines = max_output_lines
        self._main: MainScreen | None = None  # made with the default screen (inside the running app)
        self.agent_run: RunHandle | None = None
        self.finished: Finished | None = None
        self.startup_error: BaseException | None = None
        self.loop_worker: Worker[None] | None = None
        self.exec_task: asyncio.Future[Finished] | None = None  # the run's execute(), which may outlive the window
        self.leave_allowed = False  # run_tui: closing this window leaves a live run running (tui/leave.py)
        self.closed = self.left = False
        self._closing_run: asyncio.Future[None] | None = None
        self.ending: asyncio.Future[None] | None = None  # set by a SIGHUP or SIGTERM
        self.hard_exit_after: float | None = None  # run_tui: seconds the screen gets to exit after such a signal
        self._inbox: list[Event] = []
        self._started_at: float | None = None
        self.preparing = "starting sandbox" if start is None and run is None else None  # the badge until it runs
        self.next_command: list[str] | None = None  # chosen in the session browser: the CLI runs it after this app

    def get_default_screen(self) -> Screen:
        self._main = MainScreen(self.settings, self.state, self.trace, on_ready=self.begin,
                                max_output_lines=self.max_output_lines, replay=self.replaying)
        return self._main

    @property
    def main(self) -> MainScreen:
        assert self._main is not None, "the app is not running"
        return self._main

    @property
    def exit_code(self) -> int:
        finished = self.finished or self.state.finished
        outcome = finished.outcome if finished is not None else ""
        return {"met": 0, "invalid": 2}.get(outcome, 1)  # invalid: bad input found while running (a failed build)

    # --- lifecycle -----------------------------------------------------------------------

    def on_mount(self) -> None:
        name = self.settings.theme
        self.theme = THEMES.get(name, name if name in self.available_themes else "textual-dark")
        self.set_interval(DRAIN_S, self.drain)

    async def on_event(self, event) -> None:
        if isinstance(event, Key):
            self.drain()  # a key acts on every event received before it, never on a screen one batch behind
        await super().on_event(event)

    def begin(self) -> None:
        """The main screen's panels exist: show the replay, or start the run."""
        if self.replay is not None:
            self._inbox.extend(self.replay)
            self.drain()
            return
        self.set_interval(1.0, self._tick)
        self.show_status()
        self.call_after_refresh(self._launch)  # the panels are painted first, then the sandbox starts

    def _launch(self) -> None:
        if not self.closed:
            self.loop_worker = self.run_worker(self._execute(), name="agent loop", group="loop", exit_on_error=False)

    def on_main_screen_sent(self) -> None:
        """What the command made the run emit (Resumed, DeployRefused...) and the screen note, shown at once."""
        if self._inbox:
            self.drain()
        else:
            self.refresh_views()

    async def _execute(self) -> None:
        try:
            self.agent_run = run = await self._start()
        except Exception as exc:  # bad input or no sandbox: launch re-raises it after the app is gone (exit 2)
            self.startup_error = exc
            self.exit(2, return_code=2)
            return
        if self.closed:
            return
        self.main.run = run
        history = run.history()
        if history:  # resumed or forked: show the recorded history first (not its output, end, deploy offer)
            self._inbox.extend(e for e in history if e.type not in ("output", "finished", "deploy_ready"))
            self.drain()
            self.state.forget_asked()  # what was asked before the kill is asked again by the resumed loop
            self.state.paused = self.state.stop_requested = False
        run.subscribe(self.receive)
        self._started_at = self.clock()
        self.exec_task = task = asyncio.ensure_future(run.execute())
        try:
            self.finished = await (asyncio.shield(task) if self.leave_allowed else task)
        except Exception as exc:
            self.notify(f"The loop failed: {type(exc).__name__}: {exc}", severity="error", timeout=30)
        self.drain()

    async def shutdown(self) -> None:
        """Stop the loop, wait for it, close the sandbox and the workspace: once (a second call, e.g. a SIGTERM's
        while the window closes, waits for the first to be done); not while a run the person left goes on."""
        if self.left:
            return
        if self._closing_run is None:
            self.closed = True
            self._closing_run = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing_run)

    async def _close(self) -> None:
        if self._main is not None:
            await self._main.stop_deploy_command()
        if self.agent_run is not None:
            self.agent_run.send(Stop("the person quit"))
        if self.loop_worker is not None:
            try:
                await self.loop_worker.wait()
            except Exception:
                pass
        if self.agent_run is not None:
            await self.agent_run.close()

    def end_on_signal(self, name: str) -> None:
        """SIGHUP (the terminal went away): a live run goes on if it may (leave.py). SIGTERM, or a SIGHUP that
        cannot leave: close the run first (the screen may be gone), then exit."""
        if name == "SIGHUP" and leave(self):
            return
        if self.ending is None:
            self.ending = asyncio.ensure_future(self._end(name))

    async def _end(self, name: str) -> None:
        from tui_agent.tui.signals import exit_soon

        self.state.stop_requested, self.left = self.finished is None, False  # a signal after leaving: stop
        try:
            if self.agent_run is not None:
                self.agent_run.send(Stop(f"{name}: the app was asked to end"))
            await self.shutdown()
        finally:
            if self.hard_exit_after is not None:
                exit_soon(self.exit_code, self.hard_exit_after)
            self.exit(self.exit_code, return_code=self.exit_code)

    async def on_unmount(self) -> None:
        await self.shutdown()  # however the app ends, the sandbox and the workspace are closed

    async def action_quit(self) -> None:
        if leave(self):  # a live run the person may leave: it goes on (x, or `tui-agent stop`, stops it)
            return
        self.state.stop_requested = not self.finished
        self.show_status()
        await self.shutdown()
        self.exit(self.exit_code, return_code=self.exit_code)

    # --- events -> screen ----------------------------------------------------------------

    def receive(self, event: Event) -> None:
        """The run's sink, called on this app's event loop thread: queue the event for the next batch."""
        if not self.left:
            self._inbox.append(event)

    def drain(self) -> None:
        """Fold the queued events into the state and the screen: one output write per batch."""
        # `ready` is set in the screen's on_mount: a replay is folded there, before the first idle (snapshots)
        if not self._inbox or self._main is None or not self._main.ready:
            return
        from tui_agent.events import ToolProgress  # these load with the first event: the first paint needs neither
        from tui_agent.tui.narration import narrate
        events, self._inbox = self._inbox, []
        for item in grouped(events):
            if isinstance(item, str):
                self.main.output.append(item)
                continue
            self.state.apply(item)
            self.trace.apply(item)
            for said in narrate(item, self.state, replay=self.replaying):
                self.say(said)
            if isinstance(item, ToolProgress) and item.source.startswith("mcp:"):
                self.servers_view.changed(item.source.removeprefix("mcp:"), item.message)
        self.refresh_views()
        for screen in self.screen_stack:  # the inspector's items, the per-hunk deploy's recheck (live)
            if hasattr(screen, "run_events") and screen.is_mounted:
                screen.run_events(events)

    def say(self, said: Heading | Notice | LogText) -> None:
        if isinstance(said, Heading):
            self.main.output.write_heading(said)
        elif isinstance(said, LogText):
            self.main.output.append(said.text)
        else:
            self.notify(said.message, severity=said.severity, timeout=said.timeout)

    def refresh_views(self) -> None:
        state, main = self.state, self.main
        dirty, state.dirty = state.dirty, set()
        if "plan" in dirty:
            main.plan.show(state)
        if "fixes" in dirty:
            main.fixes.show(state.fixes, main.changes() if main.fixes.cumulative else None)
        if "perms" in dirty:
            main.permissions.show(state, self.rules())
        if "mcp" in dirty:
            self.servers_view.refresh()
        self.show_status()
        main.refresh_bindings()

    def elapsed(self) -> float:
        if self.state.finished is not None or self._started_at is None:
            return self.state.elapsed_s
        return max(self.state.elapsed_s, self.clock() - self._started_at)

    def show_status(self) -> None:
        if self._main is not None and self._main.ready:
            phase = self.preparing if self.agent_run is None and not self.state.started else None
            self._main.status.show(self.state, self.elapsed(), phase)

    def _tick(self) -> None:
        if self.state.finished is None:
            self.show_status()
        self.servers_view.refresh()  # a slow poll besides the servers' own progress events

    def rules(self) -> dict[str, list[str]]:
        return self.agent_run.rules() if self.agent_run is not None else {}

    def _servers_run(self) -> RunHandle | None:
        return None if self.closed or self._main is None or not self._main.ready else self.agent_run

    def _servers_shown(self) -> None:
        self.main.permissions.show(self.state, self.rules())
        self.main.refresh_bindings()

    # --- breakpoints, the command palette -------------------------------------------------

    def on_breakpoints_screen_changed(self, message: BreakpointsScreen.Changed) -> None:
        if self.agent_run is not None:
            reply = self.agent_run.send(message.command)
            message.dialog.shown(message.command, self.agent_run.breakpoints(), "" if reply.ok else reply.note)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for title, help_text, action in palette(MAIN):
            yield SystemCommand(title, help_text, lambda action=action: self.main.run_action(action))
