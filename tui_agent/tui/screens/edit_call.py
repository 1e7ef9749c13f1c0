"""Edit a pending tool call before it runs: its arguments as JSON, or an edit_file's new_string as plain text."""

from __future__ import annotations

import json

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static, TextArea

from tui_agent.events import ToolCallRequested
from tui_agent.sanitize import json_visible, visible
from tui_agent.tui.safe import SafeText, safe
from tui_agent.tui.state import summarize
from tui_agent.tui.style_paths import style


def parse_arguments(text: str) -> dict:
    """The edited JSON as arguments; ValueError with a one-line reason when it is not a JSON object."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(value, dict):
        raise ValueError("the arguments must be a JSON object ({...})")
    return value


def plain_editable(name: str, arguments: dict) -> bool:
    """An edit_file's new_string is edited as plain text unless it holds characters a terminal would act on."""
    value = arguments.get("new_string")
    return name == "edit_file" and isinstance(value, str) and visible(value) == value


class EditCallScreen(ModalScreen[dict | None]):
    """Dismissed with the edited arguments (ctrl+s or the Allow button), or None (escape, Cancel)."""

    CSS_PATH = style("edit_call.tcss")
    BINDINGS = [
        Binding("ctrl+s", "allow", "Allow edited", priority=True),
        Binding("ctrl+t", "switch", "JSON / new_string", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, call: ToolCallRequested, *, at_breakpoint: bool = False) -> None:
        super().__init__()
        self.call, self.at_breakpoint = call, at_breakpoint
        self.arguments = dict(call.arguments) if isinstance(call.arguments, dict) else {}
        self.plain = plain_editable(call.name, self.arguments)

    def compose(self) -> ComposeResult:
        with Vertical(id="edit-dialog"):
            yield Label(id="edit-what")
            yield TextArea(self._text(), soft_wrap=False,
                           show_line_numbers=True, id="edit-text")
            yield Static(id="edit-error")
            with Horizontal(id="edit-buttons"):
                yield Button("Allow edited (ctrl+s)", variant="success", id="edit-allow")
                yield Button("Cancel (esc)", id="edit-cancel")

    def on_mount(self) -> None:
        what = summarize(self.call.name, self.arguments)
        self.query_one("#edit-dialog").border_title = safe(f"Edit {what} before it runs", newlines=False)
        self._describe()
        self.query_one(TextArea).focus()

    def _text(self) -> str:
        if self.plain:
            return self.arguments["new_string"]
        return json_visible(json.dumps(self.arguments, ensure_ascii=False, indent=2))

    def _describe(self) -> None:
        what = ("the new_string of this edit_file (plain text; ctrl+t edits all arguments as JSON)" if self.plain
                else f"the arguments of {self.call.name} as JSON")
        when = ("; allowed now, it runs when the loop goes on (p resume, s step)" if self.at_breakpoint
                else "; allowing runs the call with your version")
        self.query_one("#edit-what", Label).update(SafeText(f"Editing {what}{when}."))

    def edited(self) -> dict:
        text = self.query_one(TextArea).text
        if self.plain:
            return {**self.arguments, "new_string": text}
        return parse_arguments(text)

    def _error(self, message: str) -> None:
        error = self.query_one("#edit-error", Static)
        error.update(safe(message))
        error.set_class(bool(message), "-shown")

    def action_allow(self) -> None:
        try:
            arguments = self.edited()
        except ValueError as exc:
            self._error(f"Not sent: {exc}")
            return
        self.dismiss(arguments)

    def action_switch(self) -> None:
        try:
            self.arguments = self.edited()
        except ValueError as exc:
            self._error(f"Fix the JSON first: {exc}")
            return
        if not self.plain and not plain_editable(self.call.name, self.arguments):
            self._error("Only an edit_file's new_string without control characters can be edited as plain text.")
            return
        self.plain = not self.plain
        area = self.query_one(TextArea)
        area.load_text(self._text())
        self._error("")
        self._describe()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "edit-allow":
            self.action_allow()
        else:
            self.action_cancel()
