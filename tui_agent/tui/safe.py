"""Text for widgets from strings we did not write: hidden characters shown as dim, reversed escapes, no markup."""

from __future__ import annotations

from typing import Any

from rich.style import Style, StyleType
from rich.text import Text

from tui_agent.sanitize import pieces, visible

ESCAPE_STYLE = "dim reverse"


class SafeText(Text):
    """A rich Text whose strings (constructor and `append`) always pass the sanitiser: the widgets' only Text."""

    def __init__(self, text: str = "", style: StyleType = "", **options: Any) -> None:
        super().__init__("", style, **options)
        if text:
            self.append(text)

    def append(self, text: str | Text, style: str | Style | None = None) -> "SafeText":
        if isinstance(text, Text):
            super().append(text, style)
            return self
        for chunk, escaped in pieces(str(text)):
            super().append(chunk, _escape_style(style) if escaped else style)
        return self


def _escape_style(style: str | Style | None) -> str | Style:
    if isinstance(style, Style):
        return style + Style.parse(ESCAPE_STYLE)
    return f"{style or ''} {ESCAPE_STYLE}".strip()


def safe(text: object, style: str = "", *, newlines: bool = True) -> Text:
    """A Text of `text` (model, file, tool, server or error text): never markup, every hidden character visible."""
    out = SafeText()
    for chunk, escaped in pieces(str(text), newlines=newlines):
        Text.append(out, chunk, _escape_style(style) if escaped else style)
    return out


def add(text: Text, value: object, style: str = "", *, newlines: bool = True) -> Text:
    """Append `value` to `text` as `safe` does; returns `text` for chaining."""
    return text.append_text(safe(value, style, newlines=newlines))


def plain(text: object, *, newlines: bool = True) -> str:
    """A plain string for places that take one (notifications with markup off, titles): escapes spelled out."""
    return visible(text, newlines=newlines)


class SafeNotify:
    """Mixed into an App before `App`: every notification is plain text (no markup), hidden characters shown."""

    def notify(self, message: str, *, title: str = "", severity: Any = "information", timeout: float | None = None,
               markup: bool = True) -> None:
        super().notify(plain(message), title=plain(title, newlines=False),  # type: ignore[misc]
                       severity=severity, timeout=timeout, markup=False)
