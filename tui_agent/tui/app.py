"""AgentApp: runs the loop as a worker, folds its events into the screen in batches, sends the person's commands."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Awaitable, Callable, Iterable

from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.worker import Worker

from tui_agent.commands import Stop
from tui_agent.config import Settings
from tui_agent.events import (
    CheckFinished, CheckStarted, Deployed, DeployReady, DeployRefused, EnvDetected, EnvFailed, EnvOutdated, EnvOutput,
    EnvReady, EnvStep, Error, Event, Finished, OutputChunk, Paused, ToolCallDecided, ToolProgress,
)
from tui_agent.tui.widgets.output_log import grouped
from tui_agent.tui.actions import PersonActions
from tui_agent.tui.debug_actions import DebugActions
from tui_agent.tui.keys import bindings, palette
from tui_agent.tui.screens.main import MainScreen
from tui_agent.tui.mcp_actions import McpActions
from tui_agent.tui.state import RunState
from tui_agent.tui.style_paths import style
from tui_agent.tui.trace import Trace
from tui_agent.handle import RunHandle

DRAIN_S = 1 / 20  # events are folded into the screen at most this often
THEMES = {"dark": "textual-dark", "light": "textual-light"}
BOLD, GREEN, RED, RESET = "\x1b[1m", "\x1b[1;32m", "\x1b[1;31m", "\x1b[0m"


async def prepare_run(settings: Settings, resume_dir: Path | None, fork_at: int | None = None) -> RunHandle:
    from tui_agent.agent.gate import PERSON
    from tui_agent.runner import prepare

    return await prepare(settings, who=PERSON, resume_dir=resume_dir, fork_at=fork_at)


async def _given(run: RunHandle) -> RunHandle:
    return run


class AgentApp(McpActions, DebugActions, PersonActions, App[int]):
    """`start` builds the Run (default: runner.prepare); `run` is one built already (e.g. a ReplayRun);
    `replay` shows recorded events with no run at all (snapshots)."""

    CSS_PATH = [style("app.tcss"), style("main.tcss")]  # Textual skips CSS_PATH of a default screen
    TITLE = "tui-agent"
    BINDINGS = bindings()

    def __init__(self, settings: Settings, *, start: Callable[[], Awaitable[RunHandle]] | None = None,
                 replay: Iterable[Event] | None = None, resume_dir: Path | None = None, fork_at: int | None = None,
                 clock: Callable[[], float] = time.monotonic, max_output_lines: int = 20_000,
                 run: RunHandle | None = None) -> None:
        super().__init__()
        self.settings, self.clock = settings, clock
        self._start = start or ((lambda: _given(run)) if run is not None else
                                (lambda: prepare_run(settings, resume_dir, fork_at)))
        self.replaying = run is not None and run.replay  # a recorded session played again: nothing runs
        self.replay = list(replay) if replay is not None else None
        self.max_output_lines = max_output_lines
        self.state = RunState(replay=self.replaying)
        self.trace = Trace()  # what the inspector shows
        if self.replaying:
            self.title = f"tui-agent · REPLAY of {run.session_dir.name}"
        self.agent_run: RunHandle | None = None
        self.finished: Finished | None = None
        self.startup_error: BaseException | None = None
        self.loop_worker: Worker | None = None
        self.closed = False
        self.ending: asyncio.Future | None = None  # set by a SIGHUP or SIGTERM
        self.hard_exit_after: float | None = None  # run_tui: seconds the screen gets to exit after such a signal
        self._inbox: list[Event] = []
        self._started_at: float | None = None
        self.main: MainScreen | None = None

    def get_default_screen(self) -> Screen:
        self.main = MainScreen(self.max_output_lines)
        return self.main

    @property
    def exit_code(self) -> int:
        finished = self.finished or self.state.finished
        outcome = finished.outcome if finished is not None else None
        return {"met": 0, "invalid": 2}.get(outcome, 1)  # invalid: bad input found while running (a failed build)

    # --- lifecycle -----------------------------------------------------------------------

    def on_mount(self) -> None:
        name = self.settings.theme
        self.theme = THEMES.get(name, name if name in self.available_themes else "textual-dark")
        self.set_interval(DRAIN_S, self.drain)

    def begin(self) -> None:
        """Called by the main screen once its panels exist: show the replay, or start the run."""
        if self.replay is not None:
            self._inbox.extend(self.replay)
            self.drain()
            return
        self.set_interval(1.0, self._tick)
        self.loop_worker = self.run_worker(self._execute(), name="agent loop", group="loop", exit_on_error=False)

    async def _execute(self) -> None:
        try:
            self.agent_run = await self._start()
        except Exception as exc:  # bad input or no sandbox: launch re-raises it after the app is gone (exit 2)
            self.startup_error = exc
            self.exit(2, return_code=2)
            return
        if self.closed:
            return
        history = self.agent_run.history()
        if history:  # resumed or forked: show the recorded history first
            self._inbox.extend(e for e in history if not isinstance(e, (OutputChunk, Finished, DeployReady)))
            self.drain()
            self.state.pending.clear()  # a call asked before the kill is asked again by the resumed loop
            self.state.paused = self.state.stop_requested = False
        self.agent_run.subscribe(self.receive)
        self._started_at = self.clock()
        try:
            self.finished = await self.agent_run.execute()
        except Exception as exc:
            self.notify(f"The loop failed: {type(exc).__name__}: {exc}", severity="error", timeout=30)
        self.drain()

    async def shutdown(self) -> None:
        """Stop the loop, wait for it, close the sandbox and the workspace (idempotent)."""
        if self.closed:
            return
        self.closed = True
        await self.stop_deploy_command()
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
        """SIGHUP (the terminal went away) or SIGTERM: close the run first (the screen may be gone), then exit."""
        if self.ending is None:
            self.ending = asyncio.ensure_future(self._end(name))

    async def _end(self, name: str) -> None:
        from tui_agent.tui.signals import exit_soon

        self.state.stop_requested = self.finished is None
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
        self.state.stop_requested = not self.finished
        self.show_status()
        await self.shutdown()
        self.exit(self.exit_code, return_code=self.exit_code)

    # --- events -> screen ----------------------------------------------------------------

    def receive(self, event: Event) -> None:
        """The run's sink, called on this app's event loop thread: queue the event for the next batch."""
        self._inbox.append(event)

    def drain(self) -> None:
        """Fold the queued events into the state and the screen: one output write per batch."""
        # `ready` is set in the screen's on_mount: a replay is folded there, before the first idle (snapshots)
        if not self._inbox or self.main is None or not self.main.ready:
            return
        events, self._inbox = self._inbox, []
        for item in grouped(events):
            if isinstance(item, str):
                self.main.output.append(item)
                continue
            self.state.apply(item)
            self.trace.apply(item)
            self.narrate(item)
        self.refresh_views()
        self.refresh_inspector()

    def narrate(self, event: Event) -> None:
        """Headings in the output log and notifications for the events a person must not miss."""
        log = self.main.output
        if isinstance(event, (EnvDetected, EnvStep, EnvOutput, EnvReady, EnvFailed, EnvOutdated)):
            self.narrate_environment(event)
        elif isinstance(event, CheckStarted):
            what = "baseline check" if event.iteration == 0 else f"iteration {event.iteration} check"
            log.heading(f"{BOLD}── {what}: {event.command} ({event.sandbox}){RESET}", mark=f"check-{event.iteration}")
        elif isinstance(event, CheckFinished):
            colour, verdict = (GREEN, "passed") if event.passed else (RED, "failed")
            extra = " · timed out" if event.timed_out else (f" · {event.error}" if event.error else "")
            log.heading(f"{colour}── check {verdict}: exit {event.exit_code} in {event.duration_s:.2f} s{extra}{RESET}")
        elif isinstance(event, ToolCallDecided) and event.name == "run_command" and event.decision == "allow":
            call = self.state.requested.get(event.call_id)
            command = (event.arguments or (call.arguments if call else {})).get("command", "")
            log.heading(f"{BOLD}── run_command: {command}{RESET}")
        elif isinstance(event, Paused) and event.reason not in ("person", "step"):
            more = " e edits the call, y allows it," if self.state.pending and not self.replaying else ""
            self.notify(f"Paused: {event.reason}.{more} s steps, p resumes, x stops.", severity="warning", timeout=15)
        elif isinstance(event, Error):
            self.notify(event.message, severity="error", timeout=30)
        elif isinstance(event, ToolProgress) and event.source.startswith("mcp:"):
            self.server_changed(event.source.removeprefix("mcp:"), event.message)
        elif isinstance(event, Deployed):
            self.notify(f"Deployed {len(event.files)} file(s) into {self.state.project or 'your folder'}.", timeout=15)
        elif isinstance(event, DeployRefused):
            self.notify(f"Deploy refused, your folder was not changed: {event.reason}", severity="error", timeout=60)
        elif isinstance(event, Finished):
            if event.outcome == "error" and event.reason in self.state.errors:
                return  # the Error event's notification says it already
            if self.state.deploy_ready is not None:
                self.notify("The check passes. Press d to review the changes and deploy them.", timeout=30)
            else:
                self.notify(f"Finished ({event.outcome}): {event.reason}",
                            severity="information" if event.outcome == "met" else "warning", timeout=30)

    def narrate_environment(self, event: Event) -> None:
        """The environment's build before the baseline check: its steps and its live install log."""
        log = self.main.output
        if isinstance(event, EnvDetected):
            state = "cached" if event.cached else "building it in the sandbox (network: the package index only)"
            log.heading(f"{BOLD}── environment: {event.source} ({event.backend}): {state}{RESET}", mark="environment")
            for note in event.notes:
                log.append(f"note: {note}\n")
        elif isinstance(event, EnvStep):
            log.heading(f"{BOLD}── environment step: {event.step}{RESET}")
        elif isinstance(event, EnvOutput):
            log.append(event.text + "\n")
        elif isinstance(event, EnvReady):
            took = "" if event.cached else f" in {event.duration_s:.1f} s"
            log.heading(f"{GREEN}── environment ready: {event.name} ({event.size_mb:.1f} MB){took}{RESET}")
        elif isinstance(event, EnvFailed):
            log.heading(f"{RED}── environment build failed at step {event.step}{RESET}")
            self.notify(event.message, severity="error", timeout=60)
        elif isinstance(event, EnvOutdated):
            self.notify(event.message, severity="warning", timeout=30)

    def refresh_views(self) -> None:
        state, main = self.state, self.main
        dirty, state.dirty = state.dirty, set()
        if "plan" in dirty:
            main.plan.show(state)
        if "fixes" in dirty:
            main.fixes.show(state.fixes, self.cumulative_diff() if main.fixes.cumulative else None)
        if "perms" in dirty:
            main.permissions.show(state, self.rules())
        if "mcp" in dirty:
            self.refresh_servers()
        self.show_status()
        self.refresh_bindings()

    def elapsed(self) -> float:
        if self.state.finished is not None or self._started_at is None:
            return self.state.elapsed_s
        return max(self.state.elapsed_s, self.clock() - self._started_at)

    def show_status(self) -> None:
        if self.main is not None:
            self.main.status.show(self.state, self.elapsed())

    def _tick(self) -> None:
        if self.state.finished is None:
            self.show_status()
        self.refresh_servers()  # a slow poll besides the servers' own progress events

    def rules(self) -> dict[str, list[str]]:
        return self.agent_run.rules() if self.agent_run is not None else {}

    def cumulative_diff(self) -> str:
        if self.state.deploy_ready is not None:
            return self.state.deploy_ready.diff
        if self.agent_run is None or self.closed:
            return ""
        try:
            return self.agent_run.changes()
        except Exception as exc:
            return f"(the cumulative diff is not available: {exc})"

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for title, help_text, action in palette():
            yield SystemCommand(title, help_text, lambda action=action: self.run_action(action))
