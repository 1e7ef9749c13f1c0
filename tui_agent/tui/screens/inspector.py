"""The inspector: for any iteration, the exact model requests and responses, tool calls, tokens, cost and timing."""

from __future__ import annotations

import shlex
from pathlib import Path

from tui_agent.tui.safe import SafeText, safe
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from tui_agent.tui.readable import as_json, matches, readable
from tui_agent.tui.style_paths import style
from tui_agent.tui.trace import Item, Trace


def fork_command(session: str, iteration: int) -> str:
    return shlex.join(["tui-agent", "resume", session, "--fork-at", str(iteration)])


class InspectorScreen(Screen):
    """Pushed over the main screen with `i`; `[` / `]` browse iterations, `/` searches, `c` copies, `f` forks."""

    CSS_PATH = style("inspector.tcss")
    BINDINGS = [
        Binding("left_square_bracket", "iteration(-1)", "Prev iteration", key_display="["),
        Binding("right_square_bracket", "iteration(1)", "Next iteration", key_display="]"),
        Binding("slash", "search", "Search", key_display="/"),
        Binding("c", "copy", "Copy JSON"),
        Binding("f", "fork", "Fork here"),
        Binding("escape,i", "close", "Back"),
    ]

    def __init__(self, trace: Trace, *, session: Path | str | None = None, iteration: int | None = None) -> None:
        super().__init__()
        self.trace, self.session = trace, session
        numbers = trace.numbers
        self.iteration = iteration if iteration in numbers else (numbers[-1] if numbers else 0)
        self.query_text = ""
        self.shown: list[Item] = []
        self._shown_data: tuple | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="insp-head")
        yield Input(placeholder="/ search this iteration (matches are highlighted; Enter goes to the list)",
                    id="insp-search")
        with Horizontal(id="insp-body"):
            yield OptionList(id="insp-items")
            with VerticalScroll(id="insp-detail"):
                yield Static(id="insp-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#insp-detail").border_title = "Selected item"
        self.refresh_items()
        self.items_list.focus()

    @property
    def items_list(self) -> OptionList:
        return self.query_one("#insp-items", OptionList)

    @property
    def selected(self) -> Item | None:
        index = self.items_list.highlighted
        return self.shown[index] if index is not None and 0 <= index < len(self.shown) else None

    # --- contents ------------------------------------------------------------------------

    def run_events(self, events: list) -> None:
        """The app's hook after each batch of the run's events."""
        self.refresh_items()

    def refresh_items(self) -> None:
        """Rebuild the list (new events, another iteration, another search), keeping the selected item."""
        items = [i for i in self.trace.items(self.iteration) if matches(i.data, self.query_text)]
        keep = self.selected.key if self.selected else None
        if [(i.key, i.label) for i in items] != [(i.key, i.label) for i in self.shown]:
            self.shown = items
            options = self.items_list
            options.clear_options()
            options.add_options([Option(safe(i.label, newlines=False), id=i.key) for i in items])
            keys = [i.key for i in items]
            if keys:
                options.highlighted = keys.index(keep) if keep in keys else 0
        else:
            self.shown = items
        self._head()
        self.render_detail()

    def _head(self) -> None:
        numbers = self.trace.numbers
        text = SafeText()
        if not numbers:
            text.append("Inspector · no model request yet", style="bold")
        else:
            where = numbers.index(self.iteration) + 1 if self.iteration in numbers else 0
            text.append(f"Inspector · iteration {self.iteration}", style="bold")
            text.append(f" ({where} of {len(numbers)} recorded: {numbers[0]}–{numbers[-1]})", style="dim")
            it = self.trace.iterations.get(self.iteration)
            if it is not None:
                u = it.usage()
                text.append(f" · tokens in {u['input_tokens']} out {u['output_tokens']} cache read "
                            f"{u['cache_read_tokens']} write {u['cache_write_tokens']} · ${it.cost():.4f}"
                            f" · model {it.model_s():.2f} s · tools {it.tools_s():.2f} s")
        if self.query_text:
            text.append(f"\n{len(self.shown)} item(s) match {self.query_text!r}", style="bold")
            if not self.shown:
                elsewhere = [k for k in self.trace.numbers if k != self.iteration and any(
                    matches(i.data, self.query_text) for i in self.trace.items(k))]
                text.append(f"; in iterations: {', '.join(map(str, elsewhere))}" if elsewhere else
                            "; in no other iteration either", style="dim")
        self.query_one("#insp-head", Static).update(text)

    def render_detail(self) -> None:
        item = self.selected
        body = self.query_one("#insp-text", Static)
        if item is None:
            self._shown_data = None
            body.update(SafeText("Nothing to show here.", style="dim"))
            return
        if (item.key, item.data) == self._shown_data:
            return
        self._shown_data = (item.key, item.data)
        detail = self.query_one("#insp-detail", VerticalScroll)
        detail.border_title = safe(item.label, newlines=False)
        text = readable(item.data, self.query_text)
        body.update(text)
        at = text.plain.lower().find(self.query_text.lower()) if self.query_text else -1
        line = text.plain.count("\n", 0, at) if at >= 0 else 0  # lines do not wrap: this is the match's row
        self.call_after_refresh(detail.scroll_to, x=0, y=max(0, line - 3), animate=False)

    @on(OptionList.OptionHighlighted, "#insp-items")
    def _highlighted(self) -> None:
        self.render_detail()

    @on(Input.Changed, "#insp-search")
    def _search(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        self._shown_data = None
        self.refresh_items()

    @on(Input.Submitted, "#insp-search")
    def _submitted(self) -> None:
        self.items_list.focus()

    # --- actions -------------------------------------------------------------------------

    def action_iteration(self, delta: int) -> None:
        numbers = self.trace.numbers
        if not numbers:
            return
        index = numbers.index(self.iteration) if self.iteration in numbers else len(numbers) - 1
        target = index + delta
        if not 0 <= target < len(numbers):
            self.notify("No earlier iteration." if delta < 0 else "This is the latest iteration.", timeout=2)
            return
        self.iteration = numbers[target]
        self._shown_data = None
        self.refresh_items()

    def action_search(self) -> None:
        self.query_one("#insp-search", Input).focus()

    def action_copy(self) -> None:
        item = self.selected
        if item is None:
            self.notify("Nothing selected to copy.", severity="warning")
            return
        text = as_json(item.data)
        self.app.copy_to_clipboard(text)
        where = "no session folder to write it to"
        folder = Path(self.session) if self.session and Path(self.session).is_dir() else None
        if folder is not None:
            path = folder / f"inspector-{self.iteration}-{item.key}.json"
            try:
                path.write_text(text + "\n")
                where = f"also written to {path}"
            except OSError as exc:
                where = f"could not write {path}: {exc}"
        self.notify(f"Copied {item.label} as JSON to the clipboard; {where}.", timeout=10)

    def action_fork(self) -> None:
        it = self.trace.iterations.get(self.iteration)
        if self.session is None:
            self.notify("No recorded session to fork from.", severity="warning")
            return
        if it is None or it.finished is None:
            self.notify(f"Iteration {self.iteration} is not finished: fork from a finished one.", severity="warning")
            return
        command = fork_command(str(self.session), self.iteration)
        self.app.copy_to_clipboard(command)
        self.notify(f"To continue from the files and conversation of iteration {self.iteration} (copied):\n"
                    f"{command}", title="Fork", timeout=30)

    def action_close(self) -> None:
        self.dismiss()
