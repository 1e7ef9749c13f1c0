"""The status line: state, iteration, each termination criterion's progress, the sandbox backend."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from tui_agent.tui.safe import safe
from tui_agent.tui.state import RunState

PHASE_CLASSES = ("-running", "-paused", "-breakpoint", "-waiting", "-done", "-ready", "-deployed", "-failed")


def clock(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def phase_class(phase: str, state: RunState) -> str:
    if phase == "waiting for approval":
        return "-waiting"
    if phase == "at breakpoint":
        return "-breakpoint"
    if phase in ("paused", "pausing", "stopping", "retrying model"):
        return "-paused"
    if phase == "ready to deploy":
        return "-ready"
    if phase == "deployed":
        return "-deployed"
    if phase.startswith("done"):
        return "-done" if state.finished and state.finished.outcome == "met" else "-failed"
    return "-running"


def facts(state: RunState, elapsed: float, compact: bool = False) -> str:
    """`iteration 2 │ 2/10 iterations │ $0.0123 / $1.00 │ 0:04 / 10:00 │ check ✗ │ docker │ mode auto`"""
    c = state.criteria
    max_it, budget, wall = c.get("max_iterations"), c.get("budget_usd"), c.get("wall_time_s")
    last = state.last_check
    parts = [
        f"iteration {state.iteration}",
        f"{state.iterations_done}/{max_it or '∞'} iterations",
        f"${state.cost_usd:.4f}" + (f" / ${budget:.2f}" if budget else ""),
        clock(elapsed) + (f" / {clock(wall)}" if wall else ""),
        "check …" if last is None else ("check ✓" if last.passed else "check ✗"),
        state.sandbox or "sandbox …",
    ]
    if state.mode:
        parts.append(f"mode {state.mode}")
    if compact:
        parts[0], parts[1] = f"it {state.iteration}", f"{state.iterations_done}/{max_it or '∞'}"
        return "│".join(parts).replace(" / ", "/")
    return " │ ".join(parts)


class StatusLine(Horizontal):
    """One line at the top: a coloured state badge, then the facts."""

    _shown: tuple | None = None
    _texts: tuple[str, str] = ("", "")
    _labels: tuple[Label, Label] | None = None

    def compose(self) -> ComposeResult:
        yield Label(id="phase")
        yield Label(id="facts")

    def on_resize(self) -> None:
        if self._shown is not None:  # compact or not depends on the width: shown before the first layout too
            self.show(*self._shown)

    def show(self, state: RunState, elapsed: float, phase: str | None = None) -> None:
        self._shown = (state, elapsed, phase)
        phase = phase or state.phase
        badge, line = self._labels or (self.query_one("#phase", Label), self.query_one("#facts", Label))
        self._labels = (badge, line)
        text = f" REPLAY · {phase.upper()} " if state.replay else f" {phase.upper()} "
        if text != self._texts[0]:  # an update lays out the whole screen again: only when the words change
            badge.update(safe(text, newlines=False))
        if not badge.has_class(kind := phase_class(phase, state)):
            badge.remove_class(*PHASE_CLASSES)
            badge.add_class(kind)
        why = f"{state.pause_reason} │ " if state.at_breakpoint else ""
        said = " " + why + facts(state, elapsed, compact=self.size.width < 120)
        if said != self._texts[1]:
            line.update(safe(said, newlines=False), layout=False)  # 1fr wide: its size never depends on its words
        self._texts = (text, said)
