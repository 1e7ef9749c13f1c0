"""Theme-aware colours for rich Text built in code (diffs, plan steps, decisions)."""

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
