"""The Fixes panel: each iteration's unified diff, browsable, linked to the failing output that caused it."""

from __future__ import annotations

from rich.text import Text

from tui_agent.tui.safe import SafeText
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from tui_agent.tui.diff_text import colour_diff, output_tail
from tui_agent.tui.palette import colour, diff_colours
from tui_agent.tui.state import Fix

CAUSE_LINES = 40


class FixesPanel(Vertical):
    """Shows one fix at a time (`[` / `]` browse) or the cumulative diff (`c`)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.fixes: list[Fix] = []
        self.index: int | None = None  # None: follow the latest fix
        self.cumulative = False
        self.cumulative_diff = ""

    def compose(self) -> ComposeResult:
        yield Static(id="fix-title")
        with VerticalScroll(id="fix-body"):
            yield Static(id="fix-diff")
            yield Static(id="fix-cause")

    def on_mount(self) -> None:
        self.border_title = "3 Fixes"
        self.render_fix()

    @property
    def body(self) -> VerticalScroll:
        return self.query_one("#fix-body", VerticalScroll)

    @property
    def current(self) -> Fix | None:
        if not self.fixes:
            return None
        index = len(self.fixes) - 1 if self.index is None else self.index
        return self.fixes[max(0, min(index, len(self.fixes) - 1))]

    def show(self, fixes: list[Fix], cumulative_diff: str | None = None) -> None:
        self.fixes = fixes
        if cumulative_diff is not None:
            self.cumulative_diff = cumulative_diff
        self.render_fix()

    def browse(self, delta: int) -> bool:
        """Move to the previous (-1) or next (+1) fix; False when there is none that way."""
        if not self.fixes:
            return False
        now = len(self.fixes) - 1 if self.index is None else self.index
        target = now + delta
        self.cumulative = False
        if not 0 <= target < len(self.fixes):
            self.render_fix()
            return False
        self.index = None if target == len(self.fixes) - 1 else target
        self.render_fix()
        self.body.scroll_home(animate=False)
        return True

    def toggle_cumulative(self, diff: str | None = None) -> None:
        self.cumulative = not self.cumulative
        if diff is not None:
            self.cumulative_diff = diff
        self.render_fix()
        self.body.scroll_home(animate=False)

    def render_fix(self) -> None:
        title, diff, cause = self._title(), self.query_one("#fix-diff", Static), self.query_one("#fix-cause", Static)
        self.query_one("#fix-title", Static).update(title)
        if self.cumulative:
            diff.update(colour_diff(self.cumulative_diff, diff_colours(self.app)) if self.cumulative_diff
                        else SafeText("No change yet.", style="dim"))
            cause.update("")
            return
        fix = self.current
        if fix is None:
            diff.update(SafeText("No fix yet: the diff of each iteration shows here.", style="dim"))
            cause.update("")
            return
        diff.update(colour_diff(fix.diff, diff_colours(self.app)) if fix.diff.strip()
                    else SafeText("This iteration changed nothing.", style="dim"))
        cause.update(self._cause(fix))

    def _title(self) -> Text:
        text = SafeText()
        if self.cumulative:
            text.append("All changes since the start", style="bold")
            return text.append("  (c: back to each fix)", style="dim")
        fix = self.current
        if fix is None:
            return text.append("Fixes", style="bold")
        number = self.fixes.index(fix) + 1
        text.append(f"Fix {number}/{len(self.fixes)}", style="bold").append(f" · iteration {fix.iteration}")
        if fix.files:
            shown = [f for f in fix.files if "__pycache__" not in f] or list(fix.files)
            text.append(" · " + ", ".join(shown[:3]) + (" …" if len(shown) > 3 else ""), style="dim")
        return text

    def _cause(self, fix: Fix) -> Text:
        text = SafeText("\n")
        check = fix.cause
        if check is None:
            return text.append("The check output that led to this fix was not recorded.", style="dim")
        verdict = "passed" if check.passed else f"failed (exit {check.exit_code})"
        text.append(f"▲ Caused by the check of iteration {check.iteration}: {verdict}",
                    style="bold " + colour(self.app, "text-warning", "yellow"))
        text.append("  (o: in Output)\n", style="dim")
        return text.append_text(output_tail(check.output_tail, CAUSE_LINES))
