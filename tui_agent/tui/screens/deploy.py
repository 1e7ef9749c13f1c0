"""The deploy confirmation: the cumulative diff and a checklist; only "Deploy" lets the copy-back happen."""

from __future__ import annotations

from dataclasses import dataclass

from tui_agent.tui.safe import SafeText, safe
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from tui_agent.config import Settings
from tui_agent.tui.diff_text import colour_diff
from tui_agent.tui.palette import colour, diff_colours
from tui_agent.tui.state import RunState
from tui_agent.tui.style_paths import style


@dataclass(frozen=True)
class Checklist:
    project: str
    check_passed: bool
    iterations: int
    max_iterations: int | None
    cost_usd: float
    budget_usd: float | None
    files: tuple
    deploy_command: str | None = None

    @classmethod
    def of(cls, state: RunState, settings: Settings) -> Checklist:
        """The checklist of a run whose check passes (state.deploy_ready is set)."""
        criteria, last = state.criteria, state.last_check
        files = tuple(state.deploy_ready.files) if state.deploy_ready is not None else ()
        return cls(state.project or str(settings.project), bool(last and last.passed), state.iterations_done,
                   criteria.get("max_iterations"), state.cost_usd, criteria.get("budget_usd"), files,
                   settings.deploy_command)


class DeployScreen(ModalScreen[bool]):
    """Dismissed with True only by the Deploy button or `y`; Escape, `n` and Cancel give False."""

    CSS_PATH = style("deploy.tcss")
    BINDINGS = [
        Binding("y", "confirm", "Deploy", tooltip="Copy the changes into your folder"),
        Binding("escape,n", "cancel", "Cancel", tooltip="Close; your folder stays as it is"),
    ]

    def __init__(self, diff: str, checklist: Checklist) -> None:
        super().__init__()
        self.diff, self.checklist = diff, checklist

    def compose(self) -> ComposeResult:
        c = self.checklist
        with Vertical(id="deploy-dialog"):
            yield Label(safe(f"Deploy into {c.project}?", newlines=False), id="deploy-title")
            yield Static(self._checklist(), id="deploy-checklist")
            with VerticalScroll(id="deploy-diff"):
                yield Static(colour_diff(self.diff, diff_colours(self.app)) if self.diff.strip()
                             else SafeText("No change to deploy.", style="dim"))
            with Horizontal(id="deploy-buttons"):
                yield Button("Deploy (y)", variant="success", id="confirm")
                yield Button("Cancel (esc)", variant="default", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#deploy-dialog").border_title = "Ready to deploy"
        self.query_one("#cancel", Button).focus()

    def _checklist(self) -> SafeText:
        c = self.checklist
        good, bad = colour(self.app, "text-success", "green"), colour(self.app, "text-error", "red")
        text = SafeText()

        def item(ok: bool, line: str) -> None:
            text.append("✓ " if ok else "✗ ", style=good if ok else bad).append(line + "\n")

        item(c.check_passed, "the check passes" if c.check_passed else "the check does not pass")
        item(c.max_iterations is None or c.iterations <= c.max_iterations,
             f"{c.iterations} iteration(s)" + (f" of {c.max_iterations}" if c.max_iterations else ""))
        item(c.budget_usd is None or c.cost_usd <= c.budget_usd,
             f"${c.cost_usd:.4f} spent" + (f" of ${c.budget_usd:.2f}" if c.budget_usd else ""))
        files = sorted(c.files, key=lambda f: ("__pycache__" in f, f))
        shown = ", ".join(files[:5]) + (" …" if len(files) > 5 else "")
        text.append(f"{len(files)} file(s): ", style="bold").append(shown)
        text.append("\nthen runs: " + c.deploy_command if c.deploy_command else "\nno deploy command configured",
                    style="" if c.deploy_command else "dim")
        return text

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
