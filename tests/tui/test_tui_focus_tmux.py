"""A real terminal: keys 1-4 move the focus, and the terminal shows it at once on the panels' borders (a focus change
repaints the panels it concerns, not the whole screen: the borders must still be painted)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tmux import REPO, Tmux, app_command

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

PANELS = {"1": "1 Plan", "2": "2 Output", "3": "3 Fixes", "4": "4 Permissions"}
SGR = re.compile(r"\x1b\[([0-9;]*)m")


def foregrounds(styled: list[str]) -> list[list[str]]:
    """The foreground colour (its SGR parameters) of each cell of a `capture-pane -e` screen; tmux carries the
    colour over from one line to the next without repeating it."""
    fg, rows = "", []
    for line in styled:
        cells, at = [], 0
        while at < len(line):
            match = SGR.match(line, at)
            if match is None:
                cells.append(fg)
                at += 1
                continue
            params, i = match.group(1).split(";"), 0
            while i < len(params):
                if params[i] in ("", "0", "39"):
                    fg = ""
                elif params[i] == "38" and i + 2 < len(params) and params[i + 1] == "5":
                    fg, i = ";".join(params[i:i + 3]), i + 2
                elif params[i] == "38" and i + 4 < len(params):
                    fg, i = ";".join(params[i:i + 5]), i + 4
                i += 1
            at = match.end()
        rows.append(cells)
    return rows


def corners(tmux: Tmux) -> dict[str, str]:
    """Each panel's top-left border corner colour, read from what the terminal shows."""
    plain = tmux.screen().splitlines()
    colours = foregrounds(tmux._tmux("capture-pane", "-e", "-p", "-t", "main").stdout.splitlines())
    found = {}
    for key, title in PANELS.items():
        row = next(i for i, line in enumerate(plain) if f"╭─ {title} " in line)
        found[key] = colours[row][plain[row].index(f"╭─ {title} ")]
    return found


def focused(tmux: Tmux) -> str | None:
    """The key of the one panel whose border differs from the other three, if there is one."""
    seen = corners(tmux)
    odd = [key for key, c in seen.items() if list(seen.values()).count(c) == 1]
    return odd[0] if len(odd) == 1 and len(set(seen.values())) == 2 else None


def test_each_focus_key_shows_on_the_borders_at_once(tmp_path: Path):
    session = tmp_path / "session"
    session.mkdir()
    (session / "events.jsonl").write_text((REPO / "tests" / "tui" / "data" / "calculator.jsonl").read_text())
    tmux = Tmux(app_command("replay", str(session), "--speed", "0"))
    try:
        tmux.wait_until(lambda s: all(title in s for title in PANELS.values()) and "DEPLOYED" in s, 60, "the panels")
        for key in ("3", "2", "4", "1", "2"):
            tmux.keys(key)
            tmux.wait_until(lambda _s, key=key: focused(tmux) == key, 30, f"panel {PANELS[key]} shown focused")
    finally:
        tmux.kill()
