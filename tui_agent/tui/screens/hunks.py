"""The per-hunk deploy review: every changed file and its hunks, each accepted or rejected (keys or the mouse), a
hunk edited before it lands; then the confirmation (what will be written, byte for byte) or feedback to the model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from tui_agent.commands import Feedback
from tui_agent.tui.diff_text import colour_diff
from tui_agent.tui.hunk_selection import Selection, Sender
from tui_agent.tui.palette import diff_colours
from tui_agent.tui.safe import SafeText, safe
from tui_agent.tui.screens.deploy import _clean, _name
from tui_agent.tui.style_paths import style
from tui_agent.workspace.deploy_risk import CONTROL_NAME

if TYPE_CHECKING:
    from tui_agent.handle import RunHandle


class HunkReviewScreen(ModalScreen[None]):
    """Space, Enter or a click toggles the focused file or hunk; `a` accepts, `r` rejects, `e` edits it; `y` opens
    the confirmation; `f` sends the rejected hunks back to the model with the reason typed below."""

    CSS_PATH = style("hunks.tcss")
    BINDINGS = [
        Binding("y", "confirm", "Deploy…", tooltip="See what will be written, then recheck and deploy"),
        Binding("a", "mark(True)", "Accept", tooltip="Accept the focused file or hunk"),
        Binding("r", "mark(False)", "Reject", tooltip="Reject the focused file or hunk"),
        Binding("e", "edit", "Edit", tooltip="Edit the focused hunk's new text before it lands"),
        Binding("f", "feedback", "Feedback", tooltip="Send the rejected hunks and your reason to the model"),
        Binding("down,j", "app.focus_next", "Next", show=False),
        Binding("up,k", "app.focus_previous", "Previous", show=False),
        Binding("escape", "cancel", "Back", tooltip="Close; your folder stays as it is"),
    ]

    def __init__(self, review: tuple, project: str, *, run: RunHandle | None, send: Sender) -> None:
        super().__init__()
        self.selection, self.project, self.run, self.send = Selection(review), project, run, send

    def compose(self) -> ComposeResult:
        colours = diff_colours(self.app)
        with Vertical(id="hunks-dialog"):
            yield Label(safe(f"Review each change before it goes into {self.project}", newlines=False),
                        id="hunks-title")
            yield Static(self._summary(), id="hunks-summary")
            with VerticalScroll(id="hunks-list"):
                for i, (path, kind, _, flagged, hunks) in enumerate(self.selection.review):
                    note = f"  ⚑ flagged: {_clean(flagged)}" if flagged else ""
                    yield Checkbox(SafeText(f"{_name(path)}  ({kind}{', taken whole' if not hunks else ''}){note}"),
                                   self.selection.files[i], id=f"file-{i}", classes="hunk-file")
                    for j, (text, _) in enumerate(hunks):
                        yield Checkbox(self._hunk_label(i, j), self.selection.hunks[i, j],
                                       id=f"hunk-{i}-{j}", classes="hunk-box")
                        yield Static(colour_diff(text, colours), id=f"diff-{i}-{j}", classes="hunk-diff")
            yield Input(placeholder="why you reject (sent to the model with f)", id="hunks-reason")
            with Horizontal(id="hunks-buttons"):
                yield Button("Deploy… (y)", variant="success", id="confirm")
                yield Button("Feedback (f)", variant="warning", id="feedback")
                yield Button("Back (esc)", variant="default", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#hunks-dialog").border_title = "Per-hunk review"
        boxes = self.query(Checkbox)
        if boxes:
            boxes.first().focus()

    def _summary(self) -> SafeText:
        accepted, total = self.selection.counts()
        edited = f", {len(self.selection.edits)} edited" if self.selection.edits else ""
        return SafeText(f"{accepted} of {total} change(s) accepted{edited}; flagged files start rejected. "
                        "The check runs again on exactly what you accept before anything is written.")

    def _sync(self) -> None:
        """Put every box in line with the selection (without echoing Changed back into it)."""
        for i, _ in enumerate(self.selection.review):
            self._set(f"#file-{i}", self.selection.files[i])
        for (i, j), on in self.selection.hunks.items():
            self._set(f"#hunk-{i}-{j}", on)
            self.query_one(f"#hunk-{i}-{j}", Checkbox).label = self._hunk_label(i, j)
        self.query_one("#hunks-summary", Static).update(self._summary())

    def _hunk_label(self, i: int, j: int) -> SafeText:
        """`hunk 2 of 3 · rejected (edited)`: the word says what the box's colour alone would leave to guess."""
        n, on = len(self.selection.review[i][4]), self.selection.hunks[i, j]
        edited = " (edited)" if (i, j) in self.selection.edits else ""
        return SafeText(f"hunk {j + 1} of {n} · {'accepted' if on else 'rejected'}{edited}")

    def _set(self, selector: str, value: bool) -> None:
        box = self.query_one(selector, Checkbox)
        if box.value != value:
            with box.prevent(Checkbox.Changed):
                box.value = value

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self._apply(event.checkbox.id or "", event.value)

    def _apply(self, wid: str, value: bool) -> None:
        parts = wid.split("-")
        if parts[0] == "file":
            self.selection.set_file(int(parts[1]), value)
        elif parts[0] == "hunk":
            self.selection.set_hunk(int(parts[1]), int(parts[2]), value)
        self._sync()

    def action_mark(self, value: bool) -> None:
        focused = self.focused
        if isinstance(focused, Checkbox) and focused.id:
            self._apply(focused.id, value)

    def action_edit(self) -> None:
        focused = self.focused
        if not (isinstance(focused, Checkbox) and focused.id and focused.id.startswith("hunk-")):
            self.notify("Focus a hunk to edit it.", severity="warning")
            return
        i, j = (int(x) for x in focused.id.split("-")[1:])
        from tui_agent.tui.screens.hunk_edit import HunkEditScreen

        current = self.selection.edits.get((i, j), self.selection.review[i][4][j][1])
        if CONTROL_NAME.search(current.replace("\n", "").replace("\t", "")):  # a TextArea would render them raw
            self.notify("This hunk holds control or bidi characters: accept or reject it; it cannot be edited here.",
                        severity="warning")
            return

        def done(text: str | None) -> None:
            if text is not None:
                self.selection.edits[i, j] = text
                self.selection.set_hunk(i, j, True)
                self._sync()
        self.app.push_screen(HunkEditScreen(self.selection.review[i][0], j, current), done)

    def action_confirm(self) -> None:
        from tui_agent.tui.screens.hunk_confirm import HunkConfirmScreen

        if not self.selection.command_hunks():
            self.notify("Nothing is accepted: nothing would be deployed.", severity="warning")
            return
        confirm = HunkConfirmScreen(self.selection, self.project, run=self.run, send=self.send)
        self.app.push_screen(confirm, self._confirmed)

    def _confirmed(self, deployed: bool | None) -> None:
        if deployed:
            self.dismiss(None)

    def action_feedback(self) -> None:
        reason = self.query_one("#hunks-reason", Input).value.strip()
        notes = self.selection.rejected(reason)
        if not notes:
            self.notify("Reject a hunk first: feedback tells the model what you rejected and why.",
                        severity="warning")
            return
        reply = self.send(Feedback(notes))
        if reply.ok:
            self.notify(f"Sent {len(notes)} rejected change(s) to the model: another iteration starts.")
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        {"confirm": self.action_confirm, "feedback": self.action_feedback,
         "cancel": self.action_cancel}[event.button.id or "cancel"]()
