"""How the Permissions panel shows what an MCP server asks (a form, a URL, a sampling request) and a pending MCP
call's hints. Every string from a server is untrusted: appended to SafeText (hidden characters shown, no markup)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from tui_agent.tui.safe import SafeText

if TYPE_CHECKING:
    from tui_agent.events import QuestionAsked

MAX_SHOWN = 4000  # of a server's message or prompt; the rest is cut with a note
KEYS = {"form": "y fill in the form (accept / decline / cancel) · n decline",
        "url": "y answer (accept / decline / cancel; nothing is opened) · n decline",
        "sampling": "y approve (it spends your money) · n deny"}
WARN_HINTS = ("destructive", "open-world")


def clean(text: object, limit: int = MAX_SHOWN) -> str:
    """At most `limit` characters of a server's string (SafeText or plain() shows its hidden characters)."""
    shown = str(text)
    return shown if len(shown) <= limit else shown[:limit] + f"… ({len(shown) - limit} more characters)"


def option_label(q: QuestionAsked) -> str:
    """The one line in the pending list: `? everything asks: a form` / `? everything: sampling ($0.0123)`."""
    what = {"form": "a form", "url": "open a URL", "sampling": f"sampling (~${q.estimate_usd:.4f})"}.get(q.kind, q.kind)
    return clean(f"? {q.server} asks: {what}", 100)


def question_text(q: QuestionAsked, warn: str) -> Text:
    """The question in full: who asks, what, and the keys that answer it."""
    text = SafeText().append(f"Waiting for you: {KEYS.get(q.kind, '')}\n", style=warn)
    kind = {"form": "a question", "url": "a URL to open", "sampling": "to use your model"}.get(q.kind, q.kind)
    text.append("MCP server ", style="dim").append(clean(q.server, 80), style="bold")
    text.append(f" asks {kind}  ", style="").append(q.question_id + "\n", style="dim")
    if q.kind == "sampling":
        return _sampling(text, q)
    text.append(clean(q.message) + "\n")
    if q.kind == "url":
        text.append("domain: ", style="bold").append(clean(q.domain or "(none)", 200) + "\n", style=warn)
        text.append("url: ", style="bold").append(clean(q.url) + "\n")
        return text.append("Nothing is opened: copy the URL if you choose to go there.", style="dim")
    for f in q.fields:
        text.append(("* " if f.get("required") else "  ") + clean(f.get("title") or f.get("name"), 80), style="bold")
        text.append(f"  {f.get('kind')}", style="dim")
        low, high = f.get("minimum"), f.get("maximum")
        if low is not None or high is not None:
            text.append(f" ({'' if low is None else clean(low, 30)}–{'' if high is None else clean(high, 30)})",
                        style="dim")
        if f.get("choices"):
            text.append(" (" + clean(", ".join(f["choices"]), 300) + ")", style="dim")
        if f.get("default") is not None:
            text.append(" = " + clean(f["default"], 200))
        if f.get("description"):
            text.append("\n    " + clean(f["description"], 300), style="dim")
        text.append("\n")
    return text


def _sampling(text: Text, q: QuestionAsked) -> Text:
    text.append("max tokens: ", style="bold").append(f"{q.max_tokens}   ")
    text.append("estimated cost: ", style="bold").append(f"${q.estimate_usd:.4f}\n")
    for refused in q.refused:
        text.append("refused: ", style="bold").append(clean(refused, 200) + "\n", style="dim")
    if q.system:
        text.append("system prompt:\n", style="bold")
        _block(text, q.system)
    text.append("messages:\n", style="bold")
    _block(text, q.prompt)
    return text.append(f"A rule sampling({clean(q.server, 80)}) under allow or deny answers this without asking.",
                       style="dim")


def _block(text: Text, value: str) -> Text:
    for line in clean(value).rstrip("\n").split("\n"):
        text.append("  │ ", style="dim").append(line + "\n")
    return text


def hints_line(hints: tuple, warn: str) -> Text:
    """`server claims: read-only, idempotent` (the server's own claims: they never loosen the rules)."""
    text = SafeText()
    if hints:
        text.append("server claims: ", style="dim")
        for n, hint in enumerate(hints):
            shown = clean(hint, 40)
            text.append((", " if n else "") + shown, style=warn if shown in WARN_HINTS else "bold")
        text.append("\n")
    return text
