"""The trust question: what a project's own files would make tui-agent do, and the person's answer."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Label, Static

from tui_agent.trust import Review
from tui_agent.tui.safe import SafeText, safe
from tui_agent.tui.style_paths import style

ANSWERS = ("trust", "untrusted", "quit")


def describe(review: Review) -> SafeText:
    """The review in sections; every string from the project has its hidden characters shown (it is the project's)."""
    text = SafeText()

    def section(title: str, lines: list[str], empty: str) -> None:
        text.append(title + "\n", style="bold")
        for line in lines or [empty]:
            text.append("  " + line + "\n", style="" if lines else "dim")
        text.append("\n")

    section("MCP servers it would start on this machine", review.servers, "none")
    section("Settings that run code or widen permissions", review.settings, "none")
    section("Deploy command (runs on this machine after a deploy)",
            [review.deploy_command] if review.deploy_command else [], "none")
    section("Environment inputs (built into the check's environment)", review.env_inputs, "none")
    return text


class TrustScreen(Screen[str]):
    """Dismissed with "trust", "untrusted" (run without the project's config) or "quit"."""

    CSS_PATH = style("trust.tcss")
    BINDINGS = [
        Binding("t", "answer('trust')", "Trust"),
        Binding("u", "answer('untrusted')", "Run without project config"),
        Binding("q,escape", "answer('quit')", "Quit"),
    ]

    def __init__(self, project: str, review: Review, changed: bool = False) -> None:
        super().__init__()
        self.project, self.review, self.changed = project, review, changed

    def compose(self) -> ComposeResult:
        why = ("Its configuration changed since you trusted it." if self.changed
               else "You have not trusted this folder yet.")
        with Vertical(id="trust-dialog"):
            yield Label(safe(f"Trust {self.project}?", newlines=False), id="trust-title")
            yield Static(why + " Its own files would make tui-agent do this:", id="trust-why")
            with VerticalScroll(id="trust-review"):
                yield Static(describe(self.review))
            with Horizontal(id="trust-buttons"):
                yield Button("Trust (t)", variant="warning", id="trust")
                yield Button("Without its config (u)", variant="primary", id="untrusted")
                yield Button("Quit (q)", variant="default", id="quit")

    def on_mount(self) -> None:
        self.query_one("#trust-dialog").border_title = "Project trust"
        self.query_one("#untrusted", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(str(event.button.id))

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer)
