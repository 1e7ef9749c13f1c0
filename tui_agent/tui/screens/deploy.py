"""The deploy confirmation: every file, the flagged ones first (unchecked, their content shown), the cumulative diff
and a checklist; only "Deploy" lets the copy-back happen, and a flagged file goes only when its box is checked."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Label, Static

from tui_agent.config import Settings
from tui_agent.sanitize import visible
from tui_agent.tui.diff_text import colour_diff
from tui_agent.tui.palette import colour, diff_colours
from tui_agent.tui.safe import SafeText, safe
from tui_agent.tui.state import RunState
from tui_agent.tui.style_paths import style
from tui_agent.workspace.deploy_risk import CONTROL_NAME


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
    flagged: tuple = ()  # (path, why, content): deployed only when checked
    refused: tuple = ()  # (path, why): never deployed

    @classmethod
    def of(cls, state: RunState, settings: Settings) -> Checklist:
        """The checklist of a run whose check passes (state.deploy_ready is set)."""
        criteria, last = state.criteria, state.last_check
        ready = state.deploy_ready
        files = tuple(ready.files) if ready is not None else ()
        return cls(state.project or str(settings.project), bool(last and last.passed), state.iterations_done,
                   criteria.get("max_iterations"), state.cost_usd, criteria.get("budget_usd"), files,
                   settings.deploy_command, tuple(ready.flagged) if ready else (),
                   tuple(ready.refused) if ready else ())


def _clean(text: str) -> str:
    """Shown, not removed: a flagged file's escape sequences are what the person must see."""
    return visible(text)


def _name(path: str) -> str:
    """A file name with every control, bidi and zero-width character shown as an escape (\\x1b, \\u202e)."""
    return _clean(CONTROL_NAME.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), path))


class DeployScreen(ModalScreen["tuple[str, ...] | None"]):
    """Dismissed by the Deploy button or `y` with the flagged paths the person checked (often none);
    Escape, `n` and Cancel give None."""

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
                if c.flagged:
                    yield Static(SafeText("Flagged: these can run code on your machine or change what tui-agent does. "
                                      "Each stays out unless you check it; read it first.", style="bold"),
                                 classes="deploy-section")
                for i, (path, why, content) in enumerate(c.flagged):
                    yield Checkbox(SafeText(f"{_name(path)}: {_clean(why)}"), False, id=f"flag-{i}",
                                   classes="deploy-flag")
                    yield Static(SafeText(_clean(content) or "(empty)"), classes="deploy-content")
                if c.refused:
                    yield Static(self._refused(), classes="deploy-section")
                yield Static(self._files(), id="deploy-files", classes="deploy-section")
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
        flagged = f", {len(c.flagged)} flagged (left out unless checked)" if c.flagged else ""
        never = f", {len(c.refused)} never deployed" if c.refused else ""
        text.append(f"{len(c.files)} file(s){flagged}{never}: every one is listed below", style="bold")
        text.append("\nthen runs: " + c.deploy_command if c.deploy_command else "\nno deploy command configured",
                    style="" if c.deploy_command else "dim")
        return text

    def _refused(self) -> SafeText:
        text = SafeText("Never deployed:\n", style="bold")
        for path, why in self.checklist.refused:
            text.append(f"  {_name(path)}", style="bold").append(f"  {_clean(why)}\n", style="")
        return text

    def _files(self) -> SafeText:
        flagged = {path for path, _, _ in self.checklist.flagged}
        text = SafeText("Files:\n", style="bold")
        for path in sorted(self.checklist.files, key=lambda f: (f not in flagged, "__pycache__" in f, f)):
            text.append(f"  {'⚑ ' if path in flagged else ''}{_name(path)}\n")
        return text

    def chosen(self) -> tuple[str, ...]:
        """The flagged paths whose box is checked."""
        return tuple(path for i, (path, _, _) in enumerate(self.checklist.flagged)
                     if self.query_one(f"#flag-{i}", Checkbox).value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.chosen() if event.button.id == "confirm" else None)

    def action_confirm(self) -> None:
        self.dismiss(self.chosen())

    def action_cancel(self) -> None:
        self.dismiss(None)
