"""The breakpoints dialog: the breakpoints in force, an input to add one (checked by the core), a key to remove one."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from tui_agent.commands import AddBreakpoint, RemoveBreakpoint
from tui_agent.tui.safe import safe
from tui_agent.tui.style_paths import style

HELP = ("tool · tool:RULE (e.g. tool:edit_file, tool:run_command(pytest *)) · check · failure · "
        "spend:USD · iteration:N")


class BreakpointsScreen(ModalScreen[None]):
    """Posts Changed(AddBreakpoint | RemoveBreakpoint); the app sends it to the run and calls `shown` with the result.

    The loop reads its breakpoints at each point, so a change counts from the next one."""

    class Changed(Message):
        def __init__(self, dialog: BreakpointsScreen, command: AddBreakpoint | RemoveBreakpoint) -> None:
            super().__init__()
            self.dialog, self.command = dialog, command

    CSS_PATH = style("breakpoints.tcss")
    BINDINGS = [
        Binding("delete,r", "remove", "Remove selected"),
        Binding("escape", "close", "Close"),
    ]

    def __init__(self, specs: list[str], *, note: str = "") -> None:
        super().__init__()
        self.specs, self.note = specs, note

    def compose(self) -> ComposeResult:
        with Vertical(id="bp-dialog"):
            yield Label("Pause the agent at:", id="bp-title")
            yield OptionList(id="bp-list")
            yield Input(placeholder="add a breakpoint, e.g. tool:edit_file (Enter adds it)", id="bp-input")
            yield Static(HELP, id="bp-help")
            yield Static(id="bp-error")
            yield Static(safe(self.note + ("\n" if self.note else "") +
                              "Enter adds · Tab to the list, then r or Delete removes · Esc closes"), id="bp-keys")

    def on_mount(self) -> None:
        self.query_one("#bp-dialog").border_title = "Breakpoints"
        self.show_specs(self.specs)
        self.query_one("#bp-input", Input).focus()

    @property
    def listing(self) -> OptionList:
        return self.query_one("#bp-list", OptionList)

    def show_specs(self, specs: list[str], select: str | None = None) -> None:
        self.specs = specs
        listing = self.listing
        listing.clear_options()
        if specs:
            listing.add_options([Option(safe(spec, newlines=False), id=spec) for spec in specs])
            listing.highlighted = specs.index(select) if select in specs else 0
        else:
            listing.add_option(Option("none: the agent only pauses when you press p or s", disabled=True))

    def _error(self, message: str) -> None:
        error = self.query_one("#bp-error", Static)
        error.update(safe(message))
        error.set_class(bool(message), "-shown")

    @on(Input.Submitted, "#bp-input")
    def add(self, event: Input.Submitted) -> None:
        if spec := event.value.strip():
            self.post_message(self.Changed(self, AddBreakpoint(spec)))

    def action_remove(self) -> None:
        listing = self.listing
        if listing.highlighted is None or not self.specs:
            self.notify("No breakpoint selected.", timeout=2)
            return
        if spec := listing.get_option_at_index(listing.highlighted).id:
            self.post_message(self.Changed(self, RemoveBreakpoint(spec)))

    def shown(self, command: AddBreakpoint | RemoveBreakpoint, specs: list[str], error: str = "") -> None:
        """The run's answer to a change: the breakpoints now, or why it was refused."""
        self._error(error)
        if error:
            return
        if isinstance(command, AddBreakpoint):
            self.query_one("#bp-input", Input).value = ""
            spec = command.spec
            shown = next((s for s in specs if s.replace(" ", "") == spec.replace(" ", "")), None)
            self.show_specs(specs, select=shown)
            self.notify(f"Breakpoint set: {shown or spec}", timeout=3)
        else:
            self.show_specs(specs)
            self.notify(f"Breakpoint removed: {command.spec}", timeout=3)

    def action_close(self) -> None:
        self.dismiss(None)
