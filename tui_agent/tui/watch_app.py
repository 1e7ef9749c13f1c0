"""WatchApp: the watch mode's screen: what changed, each check's output, the proposed fix, the person's keys."""

from __future__ import annotations

from typing import Awaitable, Callable, Iterable

from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker

from tui_agent.commands import Answer, Deploy, Resume, Stop
from tui_agent.config import Settings
from tui_agent.events import Event
from tui_agent.tui.diff_text import colour_diff
from tui_agent.tui.keys import WATCH, bindings, palette
from tui_agent.tui.narration import Heading, LogText, narrate_watch
from tui_agent.tui.palette import diff_colours
from tui_agent.tui.safe import SafeNotify, SafeText
from tui_agent.tui.screens.deploy import Checklist, DeployScreen
from tui_agent.tui.style_paths import style
from tui_agent.tui.watch_state import WatchState
from tui_agent.tui.widgets.output_log import OutputLog, grouped
from tui_agent.watch.watcher import Watcher

DRAIN_S = 1 / 20


async def start_watcher(settings: Settings, auto_fix: bool) -> Watcher:
    from tui_agent.agent.gate import PERSON
    from tui_agent.runner import prepare

    run = await prepare(settings, who=PERSON)
    return Watcher(run, auto_fix=auto_fix)


class WatchApp(SafeNotify, App[int]):
    """`start` builds the Watcher (default: prepare a run on `settings`); the watcher runs as one worker and
    the screen is folded from its events (WatchState), like the main app's RunState."""

    CSS_PATH = [style("app.tcss"), style("watch.tcss")]
    TITLE = "tui-agent watch"
    BINDINGS = bindings(WATCH)

    def __init__(self, settings: Settings, *, auto_fix: bool = True,
                 start: Callable[[], Awaitable[Watcher]] | None = None) -> None:
        super().__init__()
        self.settings = settings
        self._start = start or (lambda: start_watcher(settings, auto_fix))
        self.state = WatchState(project=str(settings.project), auto_fix=auto_fix)
        self.watcher: Watcher | None = None
        self.startup_error: BaseException | None = None
        self.exit_code = 1
        self._inbox: list[Event] = []
        self.closed = False
        self.worker: Worker[None] | None = None
        self._status = ""
        self.mounted = False  # its widgets exist

    def compose(self) -> ComposeResult:
        yield Static(id="watch-status")
        with Horizontal(id="watch-panels"):
            yield OutputLog(id="watch-output", classes="panel")
            with Vertical(id="watch-right"):
                yield Static(id="watch-ask")
                with VerticalScroll(id="watch-fix", classes="panel"):
                    yield Static(SafeText("No proposed fix.", style="dim"), id="watch-diff")
        yield Footer()

    def on_mount(self) -> None:
        self.mounted = True
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
        if self.watcher.auto_fix != self.state.auto_fix:  # `f` was pressed while the sandbox started
            self.watcher.set_auto_fix(self.state.auto_fix)
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
        if not self.mounted or not self._inbox:
            return
        events, self._inbox = self._inbox, []
        state = self.state
        asking, proposal = state.asking, state.proposal
        for item in grouped(events):
            if isinstance(item, str):
                self.log_view.append(item)
                continue
            state.apply(item)
            for said in narrate_watch(item, str(self.settings.project)):
                if isinstance(said, Heading):
                    self.log_view.write_heading(said)
                elif isinstance(said, LogText):
                    self.log_view.append(said.text)
                else:
                    self.notify(said.message, severity=said.severity, timeout=said.timeout)
        if asking is not state.asking:
            self._show_ask()
        if proposal is not state.proposal:
            self._show_diff(state.proposal.diff if state.proposal is not None else "")
        self.show_status()
        self.refresh_bindings()

    def _show_ask(self) -> None:
        ask, call = self.query_one("#watch-ask", Static), self.state.asking
        ask.display = call is not None
        if call is None:
            ask.update("")
            return
        args = ", ".join(f"{k}={str(v)[:60]!r}" for k, v in call.arguments.items())
        asks = SafeText.assemble(("The agent asks: ", "bold"), f"{call.name}({args})  ", ("y allow · n deny", "dim"))
        ask.update(asks)

    def _show_diff(self, diff: str) -> None:
        body = colour_diff(diff, diff_colours(self)) if diff.strip() else SafeText("No proposed fix.", style="dim")
        self.query_one("#watch-diff", Static).update(body)

    def show_status(self) -> None:
        s = self.state
        auto = "on" if s.auto_fix else "off"
        line = SafeText.assemble((f" {s.phase} ", "reverse bold"), f"  watching {self.settings.project}  ·  ",
                             (s.verdict, "bold"), f"  ·  checks {s.checks}  ·  auto-fix {auto}")
        if s.proposal is not None:
            line.append("  ·  fix ready: d", style="bold")
        if line.plain != self._status:
            self._status = line.plain
            self.query_one("#watch-status", Static).update(line)

    # --- the person's keys ---------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        s = self.state
        if action == "deploy":
            return s.proposal is not None and not s.busy
        if action in ("allow", "deny"):
            return s.asking is not None
        if action == "stop_fix":
            return s.phase == "fixing"
        if action == "resume":
            return s.phase == "fixing" and s.fix_paused
        return True

    def action_toggle_fix(self) -> None:
        self.state.auto_fix = not self.state.auto_fix
        if self.watcher is not None:
            self.watcher.set_auto_fix(self.state.auto_fix)
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
        if self.state.asking is not None and self.watcher is not None:
            self.watcher.send(Answer(self.state.asking.call_id, action))

    def action_allow(self) -> None:
        self._answer("allow")

    def action_deny(self) -> None:
        self._answer("deny")

    def action_deploy(self) -> None:
        s, c = self.state, self.settings.criteria
        if s.proposal is None:
            return
        checklist = Checklist(str(self.settings.project), bool(s.passed), s.fix_iterations, c.max_iterations,
                              s.fix_cost_usd, c.budget_usd, s.proposal.files, None, s.proposal.flagged,
                              s.proposal.refused)
        self.push_screen(DeployScreen(s.proposal.diff, checklist), self._deploy_answer)

    def _deploy_answer(self, approved: tuple[str, ...] | None) -> None:
        if approved is not None and self.watcher is not None:
            self.watcher.send(Deploy(approved))
            self.drain()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for title, help_text, action in palette(WATCH):
            yield SystemCommand(title, help_text, lambda action=action: self.run_action(action))


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
