"""Helpers for the TUI tests: recorded events for snapshot states, a fresh copy of an example, a Pilot wait."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from tui_agent import config
from tui_agent.cli.examples import example_flags
from tui_agent.events import Event

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"


def recorded(name: str = "calculator") -> list[Event]:
    """The events of a real run (see record.py), stable paths."""
    lines = (DATA / f"{name}.jsonl").read_text().splitlines()
    return [Event.from_dict(json.loads(line)) for line in lines if line.strip()]


def upto(events: list[Event], test, nth: int = 1, inclusive: bool = True) -> list[Event]:
    """Events up to the nth one for which `test(event)` holds."""
    seen = 0
    for index, event in enumerate(events):
        if test(event):
            seen += 1
            if seen == nth:
                return events[: index + 1 if inclusive else index]
    raise AssertionError("no such event in the recording")


def example_settings(tmp_path: Path, name: str = "calculator", **overrides) -> config.Settings:
    """A fresh copy of examples/NAME as the person's folder; sessions kept under tmp_path.

    The mode is `ask` unless overridden: these tests and snapshots show the person's approvals."""
    source = REPO / "examples" / name
    project = tmp_path / name
    shutil.copytree(source, project, ignore=shutil.ignore_patterns("example.toml", "model.json"))
    return config.load(project, **{**example_flags(source), "session_root": tmp_path / "sessions", "mode": "ask",
                                   **overrides})


async def until(pilot, predicate, timeout: float = 300.0, what: str = "") -> None:
    """Let the app run until predicate() holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}; phase {pilot.app.state.phase}, "
                                 f"pending {list(pilot.app.state.pending)}, decisions {pilot.app.state.decisions[-2:]}")
        await pilot.pause(0.05)


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
