"""Theme-aware colours for what is built in code: rich Text (diffs, plan steps, decisions), log headings."""

from __future__ import annotations

from textual.app import App

from tui_agent.tui.diff_text import DiffColours


def colour(app: App, name: str, fallback: str) -> str:
    """A theme variable such as "text-success", as a colour rich understands."""
    value = app.theme_variables.get(name)
    return value if value and value.startswith("#") else fallback


def diff_colours(app: App) -> DiffColours:
    return DiffColours(
        added=colour(app, "text-success", "green"),
        removed=colour(app, "text-error", "red"),
        hunk=colour(app, "text-accent", "cyan"),
        header="bold " + colour(app, "text-primary", "blue"),
        muted="dim",
    )


ROLES = {"good": "text-success", "bad": "text-error", "warn": "text-warning"}
RESET = "\x1b[0m"


def sgr(app: App, role: str) -> str:
    """The escape that starts a heading of this role in the output log, in the theme's colour (bold)."""
    if role == "note":
        return "\x1b[2m"
    value = app.theme_variables.get(ROLES.get(role, ""), "")
    if len(value) == 7 and value.startswith("#"):
        r, g, b = (int(value[i:i + 2], 16) for i in (1, 3, 5))
        return f"\x1b[1;38;2;{r};{g};{b}m"
    return "\x1b[1m"
