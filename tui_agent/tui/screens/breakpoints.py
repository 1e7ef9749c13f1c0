"""The breakpoints dialog: the breakpoints in force, an input to add one (checked by the core), a key to remove one."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from tui_agent.agent.breakpoints import Breakpoints
from tui_agent.config import ConfigError
from tui_agent.tui.style_paths import style

HELP = ("tool · tool:RULE (e.g. tool:edit_file, tool:run_command(pytest *)) · check · failure · "
        "spend:USD · iteration:N")


class BreakpointsScreen(ModalScreen[None]):
    """Changes `breakpoints` in place: the loop reads it at each point, so a change counts from the next one."""

    CSS_PATH = style("breakpoints.tcss")
    BINDINGS = [
        Binding("delete,r", "remove", "Remove selected"),
        Binding("escape", "close", "Close"),
    ]

    def __init__(self, breakpoints: Breakpoints, *, note: str = "") -> None:
        super().__init__()
        self.breakpoints, self.note = breakpoints, note

    def compose(self) -> ComposeResult:
        with Vertical(id="bp-dialog"):
            yield Label("Pause the agent at:", id="bp-title")
            yield OptionList(id="bp-list")
            yield Input(placeholder="add a breakpoint, e.g. tool:edit_file (Enter adds it)", id="bp-input")
            yield Static(HELP, id="bp-help")
            yield Static(id="bp-error")
            yield Static(self.note + ("\n" if self.note else "") +
                         "Enter adds · Tab to the list, then r or Delete removes · Esc closes", id="bp-keys")

    def on_mount(self) -> None:
        self.query_one("#bp-dialog").border_title = "Breakpoints"
        self.show_specs()
        self.query_one("#bp-input", Input).focus()

    @property
    def listing(self) -> OptionList:
        return self.query_one("#bp-list", OptionList)

    def show_specs(self, select: str | None = None) -> None:
        specs = self.breakpoints.specs()
        listing = self.listing
        listing.clear_options()
        if specs:
            listing.add_options([Option(spec, id=spec) for spec in specs])
            listing.highlighted = specs.index(select) if select in specs else 0
        else:
            listing.add_option(Option("none: the agent only pauses when you press p or s", disabled=True))

    def _error(self, message: str) -> None:
        error = self.query_one("#bp-error", Static)
        error.update(message)
        error.set_class(bool(message), "-shown")

    @on(Input.Submitted, "#bp-input")
    def add(self, event: Input.Submitted) -> None:
        spec = event.value.strip()
        if not spec:
            return
        try:
            self.breakpoints.add(spec)
        except ConfigError as exc:
            self._error(str(exc))
            return
        self._error("")
        event.input.value = ""
        shown = next((s for s in self.breakpoints.specs() if s.replace(" ", "") == spec.replace(" ", "")), None)
        self.show_specs(select=shown)
        self.notify(f"Breakpoint set: {shown or spec}", timeout=3)

    def action_remove(self) -> None:
        listing = self.listing
        if listing.highlighted is None or not self.breakpoints.specs():
            self.notify("No breakpoint selected.", timeout=2)
            return
        spec = listing.get_option_at_index(listing.highlighted).id
        if spec and self.breakpoints.remove(spec):
            self.show_specs()
            self.notify(f"Breakpoint removed: {spec}", timeout=3)

    def action_close(self) -> None:
        self.dismiss(None)
