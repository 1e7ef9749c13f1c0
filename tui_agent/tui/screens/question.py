"""An MCP server's question as a dialog: a form rendered from its schema (defaults filled in, choices as a Select,
booleans as a Switch, numbers checked), or a URL with its domain (nothing is opened). Accept / decline / cancel."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, SelectionList, Static, Switch

from tui_agent.commands import AnswerQuestion, ApproveSampling
from tui_agent.events import QuestionAsked
from tui_agent.tools.mcp.questions import FormField, coerce
from tui_agent.tui.safe import SafeText, plain, safe
from tui_agent.tui.style_paths import style
from tui_agent.tui.widgets.question_text import clean

Answer = tuple[str, dict[str, Any] | None]  # (accept | decline | cancel, the form's typed values)


def field_of(data: dict) -> FormField:
    return FormField(str(data.get("name")), str(data.get("kind", "string")), str(data.get("title") or ""),
                     str(data.get("description") or ""), bool(data.get("required")), data.get("default"),
                     tuple(str(c) for c in data.get("choices") or ()), data.get("minimum"), data.get("maximum"))


class QuestionScreen(ModalScreen[Answer]):
    """Dismissed with the person's answer; escape cancels (the server hears "cancel")."""

    CSS_PATH = style("question.tcss")
    BINDINGS = [
        Binding("ctrl+s", "answer('accept')", "Accept", priority=True),
        Binding("ctrl+d", "answer('decline')", "Decline", priority=True),
        Binding("escape", "answer('cancel')", "Cancel"),
    ]

    def __init__(self, question: QuestionAsked) -> None:
        super().__init__()
        self.question = question
        self.fields = [field_of(f) for f in question.fields if isinstance(f, dict)]

    def compose(self) -> ComposeResult:
        q = self.question
        with Vertical(id="question-dialog"):
            yield Static(safe(clean(q.message)), id="question-message")
            with VerticalScroll(id="question-form"):
                if q.kind == "url":
                    yield Static(SafeText().append("domain: ", style="bold").append(clean(q.domain or "(none)", 200),
                                                                                style="bold reverse"))
                    yield Static(SafeText().append("url: ", style="bold").append(clean(q.url)), id="question-url")
                    yield Static(safe("Nothing is opened: copy the URL if you choose to go there.", "dim"))
                for n, f in enumerate(self.fields):
                    yield Label(safe(("* " if f.required else "") + clean(f.label, 80), "bold"))
                    if f.description:
                        yield Static(safe(clean(f.description, 300), "dim"), classes="question-help")
                    yield self._widget(n, f)
            yield Static(id="question-error")
            with Horizontal(id="question-buttons"):
                yield Button("Accept (ctrl+s)", variant="success", id="accept")
                yield Button("Decline (ctrl+d)", variant="error", id="decline")
                yield Button("Cancel (esc)", id="cancel")

    def _widget(self, n: int, f: FormField) -> Any:
        wid = f"field-{n}"
        if f.kind == "boolean":
            return Switch(value=bool(f.default), id=wid)
        if f.kind == "enum":
            choices = [(safe(clean(c, 100), newlines=False), c) for c in f.choices]
            default = f.default if f.default in f.choices else Select.BLANK
            return Select(choices, value=default, allow_blank=not f.required or default is Select.BLANK, id=wid)
        if f.kind == "multi":
            chosen = set(f.default) if isinstance(f.default, list) else set()
            return SelectionList[str](*[(safe(clean(c, 100), newlines=False), c, c in chosen) for c in f.choices],
                                      id=wid)
        kind = {"integer": "integer", "number": "number"}.get(f.kind, "text")
        return Input("" if f.default is None else str(f.default), type=kind, id=wid)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        what = "asks you to open a URL" if self.question.kind == "url" else "asks you"
        title = clean(f"MCP server {self.question.server} {what}", 100)
        self.query_one("#question-dialog").border_title = plain(title, newlines=False)
        widgets = self.query("#question-form Input, #question-form Select, #question-form Switch")
        (widgets.first() if widgets else self.query_one("#accept", Button)).focus()

    def content(self) -> dict[str, Any]:
        """The form's values, typed; ValueError names the first field that does not fit or is missing."""
        values: dict[str, Any] = {}
        for n, f in enumerate(self.fields):
            widget = self.query_one(f"#field-{n}")
            if isinstance(widget, Switch):
                values[f.name] = widget.value
            elif isinstance(widget, Select):
                if widget.value is not Select.BLANK:
                    values[f.name] = widget.value
            elif isinstance(widget, SelectionList):
                values[f.name] = list(widget.selected)
            elif isinstance(widget, Input) and widget.value.strip():
                values[f.name] = coerce(f, widget.value)
            if f.required and f.name not in values:
                raise ValueError(f"{f.label} is required")
        return values

    def action_answer(self, action: str) -> None:
        if action != "accept" or self.question.kind != "form":
            self.dismiss((action, None))
            return
        try:
            values = self.content()
        except ValueError as exc:
            error = self.query_one("#question-error", Static)
            error.update(safe(f"Not sent: {exc}"))
            error.add_class("-shown")
            return
        self.dismiss(("accept", values))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_answer(str(event.button.id))


def answer_question(screen: Any, question: QuestionAsked, action: str) -> bool:
    """The main screen's y / n on a selected question: sampling is approved or denied at once; a form or a URL
    opens the dialog (y) or is declined (n). `a` (always) is for tool calls: a question is answered each time."""
    qid, sampling = question.question_id, question.kind == "sampling"
    if action == "always":
        screen.notify("A server's question is answered each time: y answers, n declines.", timeout=4)
        return False
    if action == "deny" or sampling:
        yes = action != "deny"
        command = ApproveSampling(qid, yes) if sampling else AnswerQuestion(qid, "decline")
        return bool(screen.send(command).ok)

    def answered(answer: Answer | None) -> None:
        if answer is not None:
            screen.send(AnswerQuestion(qid, answer[0], answer[1]))

    screen.app.push_screen(QuestionScreen(question), answered)
    return True
