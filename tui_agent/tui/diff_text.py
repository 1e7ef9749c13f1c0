"""Colour a unified diff and a check's output for display (rich Text, theme colours passed in)."""

from __future__ import annotations

from dataclasses import dataclass

from tui_agent.sanitize import visible
from rich.text import Text

from tui_agent.tui.safe import SafeText


@dataclass(frozen=True)
class DiffColours:
    added: str = "green"
    removed: str = "red"
    hunk: str = "cyan"
    header: str = "bold"
    muted: str = "dim"


def colour_diff(diff: str, colours: DiffColours = DiffColours()) -> Text:
    """Each line styled by its unified-diff role: file header, hunk, added, removed, context."""
    text = SafeText(no_wrap=True, overflow="ellipsis")
    for line in diff.splitlines():
        if line.startswith(("diff --git", "--- ", "+++ ")):
            style = colours.header
        elif line.startswith(("index ", "new file", "deleted file", "similarity", "rename ", "Binary files")):
            style = colours.muted
        elif line.startswith("@@"):
            style = colours.hunk
        elif line.startswith("+"):
            style = colours.added
        elif line.startswith("-"):
            style = colours.removed
        else:
            style = ""
        text.append(line + "\n", style=style)
    text.rstrip()
    return text


def output_tail(output: str, lines: int = 20) -> Text:
    """The last lines of a check's output, its SGR colours kept."""
    kept = output.rstrip("\n").splitlines()[-lines:]
    return SafeText.from_ansi(visible("\n".join(kept), keep_sgr=True), no_wrap=True)
