"""An MCP server's prompt, from the command palette: its arguments asked for, then its text shown to copy.

The run's goal is fixed once the run starts, and a project's MCP servers only start with the run, so a prompt can
never be inserted into the goal of the run that lists it: the text is shown (read-only, selectable) and copied
on the person's say-so, to be the goal of their next run or to paste where they like."""

from __future__ import annotations

from typing import TYPE_CHECKING, Awaitable, Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from tui_agent.tui.safe import plain, safe
from tui_agent.tui.style_paths import style
from tui_agent.tui.widgets.question_text import clean

if TYPE_CHECKING:
    from tui_agent.tools.mcp.prompts import PromptEntry

Fetch = Callable[[str, str, dict[str, str]], Awaitable[str]]
NOTE = ("The run's goal is fixed once it starts (its MCP servers start with it): copy this text to use it as the "
        "goal of your next run.")


class PromptScreen(ModalScreen[None]):
    """ctrl+s gets the text (with the arguments filled in), ctrl+y copies it, escape closes."""

    CSS_PATH = style("question.tcss")
    BINDINGS = [
        Binding("ctrl+s", "get", "Get text", priority=True),
        Binding("ctrl+y", "copy", "Copy", priority=True),
        Binding("escape", "close", "Close"),
    ]

    def __init__(self, entry: PromptEntry, fetch: Fetch) -> None:
        super().__init__()
        self.entry, self.fetch = entry, fetch
        self.text = ""

    def compose(self) -> ComposeResult:
        e = self.entry
        with Vertical(id="question-dialog"):
            yield Static(safe(clean(e.description or "(no description)", 500)), id="question-message")
            with VerticalScroll(id="question-form"):
                for n, name in enumerate(e.arguments):
                    yield Label(safe(("* " if name in e.required else "") + clean(name, 80), "bold"))
                    yield Input(id=f"arg-{n}")
                yield TextArea("", read_only=True, soft_wrap=True, id="prompt-text")
                yield Static(safe(NOTE, "dim"))
            yield Static(id="question-error")
            with Horizontal(id="question-buttons"):
                yield Button("Get text (ctrl+s)", variant="primary", id="get")
                yield Button("Copy (ctrl+y)", variant="success", id="copy")
                yield Button("Close (esc)", id="close")

    def on_mount(self) -> None:
        title = clean(f"Prompt {self.entry.server}/{self.entry.name}", 100)
        self.query_one("#question-dialog").border_title = plain(title, newlines=False)
        if self.entry.arguments:
            self.query_one("#arg-0", Input).focus()
        else:
            self.action_get()

    def arguments(self) -> dict[str, str]:
        values = {name: self.query_one(f"#arg-{n}", Input).value for n, name in enumerate(self.entry.arguments)}
        missing = [name for name in self.entry.required if not values[name].strip()]
        if missing:
            raise ValueError(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} required")
        return {name: value for name, value in values.items() if value.strip()}

    def _say(self, message: str) -> None:
        error = self.query_one("#question-error", Static)
        error.update(safe(message))
        error.set_class(bool(message), "-shown")

    def action_get(self) -> None:
        try:
            arguments = self.arguments()
        except ValueError as exc:
            self._say(f"Not asked: {exc}")
            return
        self.run_worker(self._get(arguments), exclusive=True, exit_on_error=False)

    async def _get(self, arguments: dict[str, str]) -> None:
        try:
            self.text = plain(await self.fetch(self.entry.server, self.entry.name, arguments))  # escapes shown
        except ValueError as exc:
            self._say(str(exc))
            return
        self._say("")
        self.query_one("#prompt-text", TextArea).load_text(clean(self.text, 100_000))  # copied whole

    def action_copy(self) -> None:
        if not self.text:
            self._say("Nothing to copy yet: ctrl+s gets the text.")
            return
        self.app.copy_to_clipboard(self.text)
        self.notify("The prompt's text is copied (your terminal's clipboard).", timeout=4)

    def action_close(self) -> None:
        self.dismiss(None)

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        await self.run_action(str(event.button.id))
