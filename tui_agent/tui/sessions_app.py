"""The session browser: every recorded session (goal, outcome, iterations, cost, date), a search, and keys to
replay one, resume it, or fork it from any iteration. One screen: `tui-agent` alone shows it as its own app, and the
main app opens it with `v` once its run is over (the CLI then runs the chosen command line)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, cast

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Input, Label, Static

from tui_agent.attach.wire import live
from tui_agent.sessions.catalog import SessionSummary, list_sessions
from tui_agent.tui.safe import SafeNotify, safe
from tui_agent.tui.style_paths import style

COLUMNS = ("DATE", "OUTCOME", "ITER", "COST", "GOAL", "SESSION")


@dataclass(frozen=True)
class Choice:
    """What the person chose: replay, resume or fork (from `iteration`) this session."""

    action: str
    session: Path
    iteration: int | None = None

    def argv(self) -> list[str]:
        """The `tui-agent` arguments that replay, attach to, resume or fork (from `iteration`) the session."""
        if self.action in ("replay", "attach"):
            return [self.action, str(self.session)]
        fork = ["--fork-at", str(self.iteration)] if self.action == "fork" else []
        return ["resume", str(self.session), *fork]


def matches(summary: SessionSummary, search: str) -> bool:
    words = search.lower().split()
    text = " ".join((summary.goal, summary.outcome, summary.name, summary.project)).lower()
    return all(word in text for word in words)


class ForkScreen(ModalScreen[int | None]):
    """Which iteration to fork from (its files and conversation); Enter forks, Esc goes back."""

    BINDINGS = [Binding("escape", "dismiss_none", "Back")]

    def __init__(self, summary: SessionSummary) -> None:
        super().__init__()
        self.summary = summary

    def compose(self) -> ComposeResult:
        with Vertical(id="fork-dialog"):
            yield Label(safe(f"Fork {self.summary.name} from iteration (0 to {self.summary.iterations}):"))
            yield Input(str(self.summary.iterations), id="fork-iteration", type="integer")
            yield Static(id="fork-error")

    @on(Input.Submitted)
    def chosen(self, event: Input.Submitted) -> None:
        try:
            number = int(event.value)
        except ValueError:
            number = -1
        if not 0 <= number <= self.summary.iterations:
            self.query_one("#fork-error", Static).update(safe(f"an iteration from 0 to {self.summary.iterations}"))
            return
        self.dismiss(number)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class SessionsScreen(Screen[Choice | None]):
    """The list, its search and its keys. `done` gets the person's Choice (None: they left); without it the screen
    is dismissed with it (pushed over another screen)."""

    CSS_PATH = style("sessions.tcss")  # for the main app; SessionsApp loads it itself (its default screen)
    BINDINGS = [
        Binding("r", "choose('replay')", "Replay", key_display="⏎/r"),  # Enter on a row: DataTable.RowSelected
        Binding("c", "choose('resume')", "Resume"),
        Binding("f", "choose('fork')", "Fork from…"),
        Binding("a", "choose('attach')", "Attach"),  # a live run (one whose window was closed, or shown elsewhere)
        Binding("slash", "search", "Search"),
        Binding("escape,q", "leave", "Quit"),
    ]

    def __init__(self, root: Path, *, folder: Path | None = None,
                 done: Callable[[Choice | None], None] | None = None) -> None:
        super().__init__()
        self.root, self.folder, self.done = Path(root), folder, done
        self.sessions: list[SessionSummary] = []
        self.shown: list[SessionSummary] = []

    def compose(self) -> ComposeResult:
        yield Input(placeholder="search goals, outcomes, names, folders (/)", id="search")
        yield DataTable(id="sessions", cursor_type="row", zebra_stripes=True)
        yield Static(id="none")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        self.sessions = list_sessions(self.root)
        self.show("")
        table.focus()

    def show(self, search: str) -> None:
        table = self.query_one(DataTable)
        table.clear()
        self.shown = [s for s in self.sessions if matches(s, search)]
        for s in self.shown:
            fork = f" (fork of {s.parent})" if s.parent else ""
            outcome = "live" if s.outcome == "unfinished" and live(s.path) else s.outcome  # `a` attaches to it
            table.add_row(safe(time.strftime("%Y-%m-%d %H:%M", time.localtime(s.started))), safe(outcome),
                          safe(str(s.iterations)), safe(f"${s.cost_usd:.2f}"), safe(s.goal, newlines=False),
                          safe(s.name + fork))
        empty = "no sessions yet" if not self.sessions else "no session matches" if not self.shown else ""
        self.query_one("#none", Static).update(safe(empty))

    @on(DataTable.RowSelected)
    def row_chosen(self) -> None:
        self.action_choose("replay")

    @on(Input.Changed, "#search")
    def searched(self, event: Input.Changed) -> None:
        self.show(event.value)

    @on(Input.Submitted, "#search")
    def search_done(self) -> None:
        self.query_one(DataTable).focus()

    def selected(self) -> SessionSummary | None:
        table = self.query_one(DataTable)
        return self.shown[table.cursor_row] if self.shown and 0 <= table.cursor_row < len(self.shown) else None

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_choose(self, action: str) -> None:
        if isinstance(self.focused, Input):  # typing in the search or the fork dialog: the key is text
            return
        summary = self.selected()
        if summary is None:
            return
        if action != "fork":
            self.finish(Choice(action, summary.path))
            return

        def forked(iteration: int | None) -> None:
            if iteration is not None:
                self.finish(Choice("fork", summary.path, iteration))

        self.app.push_screen(ForkScreen(summary), forked)

    def action_leave(self) -> None:
        self.finish(None)

    def finish(self, choice: Choice | None) -> None:
        if self.done is not None:
            self.done(choice)
        else:
            self.dismiss(choice)


class SessionsApp(SafeNotify, App[Choice | None]):
    """Returns the person's Choice (None: they left); `tui-agent` with no arguments."""

    CSS_PATH = [style("app.tcss"), style("sessions.tcss")]
    TITLE = "tui-agent · sessions"

    def __init__(self, root: Path, *, folder: Path | None = None) -> None:
        super().__init__()
        self.root, self.folder = Path(root), folder

    def get_default_screen(self) -> SessionsScreen:
        return SessionsScreen(self.root, folder=self.folder, done=self.exit)

    @property
    def browser(self) -> SessionsScreen:
        return cast(SessionsScreen, self.screen_stack[0])

    @property
    def shown(self) -> list[SessionSummary]:
        return self.browser.shown

    @property
    def sessions(self) -> list[SessionSummary]:
        return self.browser.sessions
