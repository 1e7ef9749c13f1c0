"""WatchApp: the watch mode's screen: what changed, each check's output, the proposed fix, the person's keys."""

from __future__ import annotations

from typing import Awaitable, Callable

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Static

from tui_agent.commands import Answer, Deploy, Resume, Stop
from tui_agent.config import Settings
from tui_agent.events import (
    AutoFixToggled, ChangesQueued, ChangesSynced, CheckFinished, CheckStarted, Deployed, DeployReady,
    DeployRefused, Error, Event, Finished, FixRebased, FixRefused, IterationStarted, Paused, Resumed,
    ToolCallDecided, ToolCallRequested,
)
from tui_agent.tui.screens.deploy import Checklist, DeployScreen
from tui_agent.tui.diff_text import colour_diff
from tui_agent.tui.widgets.output_log import OutputLog, grouped
from tui_agent.tui.palette import diff_colours
from tui_agent.tui.style_paths import style

DRAIN_S = 1 / 20
BOLD, DIM, GREEN, RED, YELLOW, RESET = "\x1b[1m", "\x1b[2m", "\x1b[1;32m", "\x1b[1;31m", "\x1b[33m", "\x1b[0m"


def _names(files: tuple, most: int = 4) -> str:
    return ", ".join(files[:most]) + (f" (+{len(files) - most} more)" if len(files) > most else "")


async def start_watcher(settings: Settings, auto_fix: bool):
    from tui_agent.agent.gate import PERSON
    from tui_agent.runner import prepare
    from tui_agent.watch.watcher import Watcher

    run = await prepare(settings, who=PERSON)
    return Watcher(run, auto_fix=auto_fix)


class WatchApp(App[int]):
    """`start` builds the Watcher (default: prepare a run on `settings`); the watcher runs as one worker."""

    CSS_PATH = [style("app.tcss"), style("watch.tcss")]
    TITLE = "tui-agent watch"
    BINDINGS = [
        Binding("f", "toggle_fix", "Auto-fix", tooltip="Turn auto-fix on or off"),
        Binding("d", "deploy", "Deploy", tooltip="Review the proposed fix and copy it into your folder"),
        Binding("r", "recheck", "Re-check", tooltip="Run the check now"),
        Binding("y", "allow", "Allow", tooltip="Allow the tool call the agent asks for"),
        Binding("n", "deny", "Deny", tooltip="Deny the tool call the agent asks for"),
        Binding("p", "resume", "Resume", tooltip="Resume the fix the agent paused (e.g. no progress)"),
        Binding("x", "stop_fix", "Stop fix", tooltip="Stop the agent's fix; your folder stays as it is"),
        Binding("ctrl+q", "quit", "Quit", tooltip="Stop watching and quit"),
    ]

    def __init__(self, settings: Settings, *, auto_fix: bool = True,
                 start: Callable[[], Awaitable] | None = None) -> None:
        super().__init__()
        self.settings, self.auto_fix = settings, auto_fix
        self._start = start or (lambda: start_watcher(settings, auto_fix))
        self.watcher = None
        self.startup_error: BaseException | None = None
        self.exit_code = 1
        self._inbox: list[Event] = []
        self.asking: ToolCallRequested | None = None  # the tool call waiting for the person
        self.fix_paused = False
        self.fix_stats = (0, 0.0)  # iterations and cost of the last fix attempt
        self.closed = False
        self.worker = None
        self._status = ""

    def compose(self) -> ComposeResult:
        yield Static(id="watch-status")
        with Horizontal(id="watch-panels"):
            yield OutputLog(id="watch-output", classes="panel")
            with Vertical(id="watch-right"):
                yield Static(id="watch-ask")
                with VerticalScroll(id="watch-fix", classes="panel"):
                    yield Static(Text("No proposed fix.", style="dim"), id="watch-diff")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#watch-output").border_title = "Checks"
        self.query_one("#watch-fix").border_title = "Proposed fix"
        self.set_interval(DRAIN_S, self.drain)
        self.show_status()
        self.worker = self.run_worker(self._watch(), name="watcher", group="watch", exit_on_error=False)

    async def _watch(self) -> None:
        try:
            self.watcher = await self._start()
        except Exception as exc:  # bad input or no sandbox: run_watch_tui re-raises it (exit 2)
            self.startup_error = exc
            self.exit(2, return_code=2)
            return
        self.watcher.subscribe(self.receive)
        try:
            self.exit_code = await self.watcher.run_until_stopped()
        except Exception as exc:
            self.startup_error = exc
            self.exit(2, return_code=2)
        self.drain()

    async def shutdown(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.watcher is None:
            return
        self.watcher.stop("the person quit")
        try:
            if self.worker is not None:
                await self.worker.wait()
        except Exception:  # cancelled or failed: the run is closed all the same
            pass
        finally:
            await self.watcher.run.close()

    async def on_unmount(self) -> None:
        await self.shutdown()

    async def action_quit(self) -> None:
        await self.shutdown()
        self.exit(self.exit_code, return_code=self.exit_code)

    # --- events -> screen ----------------------------------------------------------------

    @property
    def log_view(self) -> OutputLog:
        return self.query_one("#watch-output", OutputLog)

    def receive(self, event: Event) -> None:
        """The watcher's sink (on this app's event loop): queued for the next batch."""
        self._inbox.append(event)

    def drain(self) -> None:
        if not self.is_mounted:
            return
        if not self._inbox:
            self.show_status()
            return
        events, self._inbox = self._inbox, []
        asking = self.asking
        for item in grouped(events):
            if isinstance(item, str):
                self.log_view.append(item)
            else:
                self.follow(item)
                self.narrate(item)
        if asking is not self.asking:
            self._show_ask()
        self.show_status()
        self.refresh_bindings()

    def narrate(self, event: Event) -> None:
        log = self.log_view
        if isinstance(event, ChangesSynced):
            log.heading(f"{DIM}── changed: {_names(event.files + event.removed)}"
                        f" (synced in {event.duration_ms:.1f} ms){RESET}")
        elif isinstance(event, ChangesQueued):
            log.heading(f"{YELLOW}── queued ({event.reason}): {_names(event.paths)}{RESET}")
        elif isinstance(event, CheckStarted):
            what = "check" if event.iteration == 0 else f"fix iteration {event.iteration} check"
            log.heading(f"{BOLD}── {what}: {event.command} ({event.sandbox}){RESET}")
        elif isinstance(event, CheckFinished):
            colour, verdict = (GREEN, "passed") if event.passed else (RED, "failed")
            log.heading(f"{colour}── check {verdict}: exit {event.exit_code} in {event.duration_s:.2f} s{RESET}")
        elif isinstance(event, IterationStarted):
            log.heading(f"{BOLD}── the agent is fixing (iteration {event.iteration}){RESET}")
        elif isinstance(event, ToolCallDecided) and event.by == "person":
            log.heading(f"{DIM}── you chose {event.decision}: {event.name}{RESET}")
        elif isinstance(event, Finished):
            log.heading(f"{DIM}── fix attempt over: {event.outcome} ({event.reason}){RESET}")
            self.fix_stats = (event.iterations, event.cost_usd)
        elif isinstance(event, DeployReady):
            self._show_diff(event.diff)
            self.notify("A fix passes the check. Press d to review it and apply it to your folder.", timeout=20)
        elif isinstance(event, FixRebased):
            log.heading(f"{YELLOW}── your edits to {_names(event.files)} taken in under the fix; re-checking{RESET}")
        elif isinstance(event, FixRefused):
            self._show_diff("")
            log.heading(f"{RED}── fix refused: {event.reason}{RESET}")
            self.notify(event.reason, severity="warning", timeout=30)
        elif isinstance(event, Deployed):
            self._show_diff("")
            self.notify(f"Applied {len(event.files)} file(s) to {self.settings.project}.", timeout=15)
        elif isinstance(event, DeployRefused):
            self.notify(f"Not applied, your folder was not changed: {event.reason}", severity="error", timeout=30)
        elif isinstance(event, Paused):
            self.notify(f"The fix is paused: {event.reason}. p resumes, x stops it.", severity="warning", timeout=20)
        elif isinstance(event, AutoFixToggled):
            log.heading(f"{DIM}── auto-fix {'on' if event.on else 'off'}{RESET}")
        elif isinstance(event, Error):
            self.notify(event.message, severity="error", timeout=30)

    def follow(self, event: Event) -> None:
        """The tool call waiting for the person and whether the fix is paused, from the events."""
        if isinstance(event, ToolCallRequested):
            self.asking = event
        elif isinstance(event, (ToolCallDecided, Finished)):
            self.asking = None
        if isinstance(event, (Paused, Resumed, Finished)):
            self.fix_paused = isinstance(event, Paused)

    def _show_ask(self) -> None:
        ask = self.query_one("#watch-ask", Static)
        if self.asking is None:
            ask.update("")
            ask.display = False
            return
        ask.display = True
        args = ", ".join(f"{k}={str(v)[:60]!r}" for k, v in self.asking.arguments.items())
        ask.update(Text.assemble(("The agent asks: ", "bold"), f"{self.asking.name}({args})  ",
                                 ("y allow · n deny", "dim")))

    def _show_diff(self, diff: str) -> None:
        body = colour_diff(diff, diff_colours(self)) if diff.strip() else Text("No proposed fix.", style="dim")
        self.query_one("#watch-diff", Static).update(body)

    def show_status(self) -> None:
        w = self.watcher
        phase = w.phase if w is not None else "starting"
        verdict = {True: "passing", False: "failing", None: "not checked yet"}[w.passed if w else None]
        if w is not None and w.proposal is not None:
            verdict = "failing, a fix passes"
        auto = "on" if (w.auto_fix if w else self.auto_fix) else "off"
        line = Text.assemble((f" {phase} ", "reverse bold"), f"  watching {self.settings.project}  ·  ",
                             (verdict, "bold"), f"  ·  checks {w.checks if w else 0}  ·  auto-fix {auto}")
        if w is not None and w.proposal is not None:
            line.append("  ·  fix ready: d", style="bold")
        if line.plain != self._status:
            self._status = line.plain
            self.query_one("#watch-status", Static).update(line)

    # --- the person's keys ---------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        w = self.watcher
        if action == "deploy":
            return w is not None and w.proposal is not None and not w.busy
        if action in ("allow", "deny"):
            return self.asking is not None
        if action == "stop_fix":
            return w is not None and w.phase == "fixing"
        if action == "resume":
            return w is not None and w.phase == "fixing" and self.fix_paused
        return True

    def action_toggle_fix(self) -> None:
        if self.watcher is None:
            self.auto_fix = not self.auto_fix
        else:
            self.watcher.set_auto_fix(not self.watcher.auto_fix)
        self.show_status()

    def action_recheck(self) -> None:
        if self.watcher is not None:
            self.watcher.recheck()

    def action_resume(self) -> None:
        if self.watcher is not None:
            self.watcher.send(Resume())
            self.drain()

    def action_stop_fix(self) -> None:
        if self.watcher is not None:
            self.watcher.send(Stop())

    def _answer(self, action: str) -> None:
        if self.asking is not None and self.watcher is not None:
            self.watcher.send(Answer(self.asking.call_id, action))

    def action_allow(self) -> None:
        self._answer("allow")

    def action_deny(self) -> None:
        self._answer("deny")

    def action_deploy(self) -> None:
        w = self.watcher
        if w is None or w.proposal is None:
            return
        c = self.settings.criteria
        iterations, cost = self.fix_stats
        checklist = Checklist(str(self.settings.project), bool(w.passed), iterations, c.max_iterations, cost,
                              c.budget_usd, w.proposal.files)
        self.push_screen(DeployScreen(w.proposal.diff, checklist), self._deploy_answer)

    def _deploy_answer(self, approved: bool | None) -> None:
        if approved and self.watcher is not None:
            self.watcher.send(Deploy())
            self.drain()


async def run_watch_tui(settings: Settings, *, auto_fix: bool = True) -> int:
    """The watch TUI; bad input found while preparing is raised after the app closes (exit 2)."""
    app = WatchApp(settings, auto_fix=auto_fix)
    try:
        code = await app.run_async()
    finally:
        await app.shutdown()
    if app.startup_error is not None:
        raise app.startup_error
    return app.exit_code if code is None or code == 2 else code

