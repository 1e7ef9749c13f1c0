"""The Permissions panel: the calls waiting for the person (full arguments), the rules, MCP servers, decisions."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tui_agent.tui.safe import SafeText, safe
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui_agent.tui.palette import colour
from tui_agent.tui.state import Decision, RunState, summarize
from tui_agent.tui.widgets.question_text import hints_line, option_label, question_text

if TYPE_CHECKING:
    from tui_agent.events import ToolCallRequested

DEFAULT_RULES = {  # what runs without a rule, in each mode ("": a session recorded before modes)
    "auto": "mode auto (m switches): reads, workspace edits and sandboxed commands run; MCP tools ask",
    "ask": "mode ask (m switches): read_file, list_files and update_plan run; anything else asks",
    "plan": "mode plan (m switches): read-only; edits and commands are refused; MCP tools ask",
    "": "by default: read_file, list_files and update_plan are allowed; anything else asks",
}
SHOWN_DECISIONS = 200


def arguments_text(call: ToolCallRequested) -> SafeText:
    """Every argument in full; multi-line strings as indented blocks."""
    text = SafeText()
    text.append(call.name, style="bold").append(f"  iteration {call.iteration} · {call.call_id}\n", style="dim")
    arguments = call.arguments if isinstance(call.arguments, dict) else {"arguments": call.arguments}
    for key, value in arguments.items():
        text.append(f"{key}: ", style="bold")
        if isinstance(value, str) and "\n" in value:
            text.append("\n")
            for line in value.rstrip("\n").split("\n"):
                text.append("  │ ", style="dim").append(line + "\n")
        else:
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=1)
            text.append(shown + "\n")
    return text


class PermissionsPanel(Vertical):
    """`selected` is the call the allow / always / deny keys answer."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pending: dict[str, ToolCallRequested] = {}
        self.questions: dict = {}  # the MCP servers' questions (QuestionAsked) waiting for the person
        self.rules: dict[str, list[str]] = {}
        self.decisions: list[Decision] = []
        self.answered: dict[str, str] = {}  # answered ahead, at a breakpoint
        self.mode = ""
        self.at_breakpoint = False
        self.servers: tuple = ()  # the MCP servers (ServerStatus)

    def compose(self) -> ComposeResult:
        yield OptionList(id="pending")
        with VerticalScroll(id="perm-body"):
            yield Static(id="call-args")
            yield Static(id="servers")  # before the rules: a failed server shows even at 80x24
            yield Static(id="rules")
            yield Static(id="decisions")

    def on_mount(self) -> None:
        self.border_title = "4 Permissions"
        self.render_all()

    @property
    def options(self) -> OptionList:
        return self.query_one("#pending", OptionList)

    @property
    def selected(self) -> str | None:
        """The highlighted pending call, else the oldest one."""
        options = self.options
        if options.highlighted is not None and options.option_count:
            option_id = options.get_option_at_index(options.highlighted).id
            if option_id in self.pending or option_id in self.questions:
                return option_id
        return next(iter(self.pending), None) or next(iter(self.questions), None)

    def show(self, state: RunState, rules: dict[str, list[str]]) -> None:
        self.rules, self.decisions, self.answered = rules, state.decisions, state.answered_ahead
        self.at_breakpoint, self.servers, self.mode = state.at_breakpoint, state.servers, state.mode
        if list(state.pending) != list(self.pending) or list(state.questions) != list(self.questions):
            keep = self.selected
            self.pending, self.questions = dict(state.pending), dict(state.questions)
            options = self.options
            options.clear_options()
            options.add_options([Option(safe(summarize(c.name, c.arguments), newlines=False), id=c.call_id)
                                 for c in self.pending.values()])
            options.add_options([Option(safe(option_label(q), newlines=False), id=q.question_id)
                                 for q in self.questions.values()])
            ids = list(self.pending) + list(self.questions)
            if ids:
                options.highlighted = ids.index(keep) if keep in ids else 0
            self.set_class(bool(ids), "-waiting")
        self.render_all()

    @on(OptionList.OptionHighlighted, "#pending")
    def _highlighted(self) -> None:
        self.render_all()

    def render_all(self) -> None:
        self.options.display = bool(self.pending or self.questions)
        call = self.pending.get(self.selected or "")
        question = self.questions.get(self.selected or "")
        args = self.query_one("#call-args", Static)
        if question is not None:
            args.update(question_text(question, "bold " + colour(self.app, "text-warning", "yellow")))
        elif call is None:
            args.update(SafeText("No tool call is waiting for you.", style="dim"))
        else:
            warn = "bold " + colour(self.app, "text-warning", "yellow")
            answered = self.answered.get(call.call_id)
            if answered:
                say = f"Answered at the breakpoint: {answered}; it runs when the loop goes on (p / s)\n"
            elif self.at_breakpoint:
                say = "Paused at a breakpoint before this call: e edit · y allow · n deny\n"
            else:
                say = "Waiting for you: y allow · a always · n deny · e edit\n"
            waiting = SafeText().append(say, style=warn).append_text(hints_line(call.hints, warn))
            args.update(waiting.append_text(arguments_text(call)))
        self.query_one("#rules", Static).update(self._rules())
        servers = self.query_one("#servers", Static)
        servers.display = bool(self.servers)
        servers.update(server_lines(self.app, self.servers))
        self.query_one("#decisions", Static).update(self._decisions())

    def _rules(self) -> SafeText:
        text = SafeText().append("\nRules in force\n", style="bold")
        for action in ("allow", "ask", "deny"):
            rules = self.rules.get(action) or []
            text.append(f"{action}: ", style="bold").append(", ".join(rules) or "—", style="" if rules else "dim")
            text.append("\n")
        return text.append(DEFAULT_RULES.get(self.mode, DEFAULT_RULES[""]), style="dim")

    def _decisions(self) -> SafeText:
        text = SafeText().append("\n\nDecisions\n", style="bold")
        if not self.decisions:
            return text.append("none yet", style="dim")
        good, bad = colour(self.app, "text-success", "green"), colour(self.app, "text-error", "red")
        for d in self.decisions[-SHOWN_DECISIONS:]:
            allowed = d.decision in ("allow", "accept", "approve")
            word = {"allow": "allow ", "deny": "deny  "}.get(d.decision, d.decision + " ")
            text.append(("✓ " if allowed else "✗ ") + word, style=good if allowed else bad)
            text.append(d.summary).append(f"  {d.by}" + (f" · {d.rule}" if d.rule else "") + "\n", style="dim")
        text.rstrip()
        return text


STATE_STYLES = {"ready": ("●", "text-success", "green"), "failed": ("✗", "text-error", "red"),
                "starting": ("○", "text-warning", "yellow"), "restarting": ("⟳", "text-warning", "yellow")}


def server_lines(app, servers) -> SafeText:
    """`● time ready · get_current_time, convert_time` / `✗ ghost failed: …` (r restarts a failed one)."""
    text = SafeText().append("\nMCP servers\n", style="bold")
    for n, srv in enumerate(servers):
        icon, variable, fallback = STATE_STYLES.get(srv.state, ("○", "text-muted", "white"))
        text.append(("\n" if n else "") + f"{icon} ", style=colour(app, variable, fallback))
        text.append(srv.name, style="bold").append(f" {srv.state}", style=colour(app, variable, fallback))
        if srv.restarts:
            text.append(f" ({srv.restarts} restart{'s' if srv.restarts > 1 else ''})", style="dim")
        if srv.state == "ready":
            text.append(" · " + (", ".join(srv.tools) or "no tools"), style="dim")
        elif srv.reason:
            text.append(": " + " ".join(srv.reason.split())[:300], style="dim")
    if any(srv.state == "failed" for srv in servers):
        text.append("\nr restarts the failed servers", style="dim")
    return text
