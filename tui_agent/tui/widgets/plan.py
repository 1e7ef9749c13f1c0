"""The Plan panel: the goal, the agent's steps with their status, and what the model is doing now."""

from __future__ import annotations

from rich.text import Text

from tui_agent.tui.safe import SafeText
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui_agent.tui.palette import colour
from tui_agent.tui.state import RunState

ICONS = {"done": "✓", "in_progress": "▶", "pending": "○"}


class PlanPanel(VerticalScroll, can_focus=True):
    """Goal, steps and the activity line; `show(state)` re-renders from the folded state."""

    def compose(self) -> ComposeResult:
        yield Static(id="goal")
        yield Static(id="steps")
        yield Static(id="activity")

    def on_mount(self) -> None:
        self.border_title = "1 Plan"

    def show(self, state: RunState) -> None:
        if not self.is_attached or len(self.children) < 3:  # being torn down as the app closes: nothing to show
            return
        goal = SafeText()
        goal.append(state.goal or "starting…", style="bold")
        if state.check:
            goal.append("\ncheck: ", style="dim").append(state.check)
        self.query_one("#goal", Static).update(goal)
        self.query_one("#steps", Static).update(self._steps(state))
        self.query_one("#activity", Static).update(self._activity(state))

    def _steps(self, state: RunState) -> Text:
        text = SafeText()
        if not state.plan:
            return text.append("No plan yet.", style="dim")
        styles = {"done": colour(self.app, "text-success", "green"),
                  "in_progress": "bold " + colour(self.app, "text-accent", "yellow"), "pending": "dim"}
        for n, step in enumerate(state.plan):
            status = step.get("status", "pending") if isinstance(step, dict) else "pending"
            title = step.get("title", "") if isinstance(step, dict) else str(step)
            text.append(("\n" if n else "") + f"{ICONS.get(status, '○')} ", style=styles.get(status, ""))
            text.append(title, style="" if status != "pending" else "dim")
        return text

    def _activity(self, state: RunState) -> Text:
        """What needs the person's eye first (the error that ended the run, a model retry), then what happens now."""
        lines = []
        if state.fatal_error:
            error = "bold " + colour(self.app, "text-error", "red")
            lines.append(SafeText().append("✗ " + state.fatal_error, style=error))
        if (retry := state.retrying) is not None:
            busy = f"⟳ model busy: {retry.reason}; retry {retry.attempt} in {retry.wait_s:.1f} s"
            lines.append(SafeText().append(busy, style="bold " + colour(self.app, "text-warning", "yellow")))
        said = " ".join(state.activity.split())
        if said:
            lines.append(SafeText().append("model: ", style="dim").append(said[-240:], style="italic"))
        if state.last_tool:
            lines.append(SafeText().append("tool: ", style="dim").append(state.last_tool))
        if state.progress:
            lines.append(SafeText().append("progress: ", style="dim").append(state.progress))
        return SafeText("\n").join(lines)
