"""What the first screen imports: no event part (they load with the first event), and every event type is still
found by name (Event.from_dict) in a process that has loaded none of them."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tui_agent import events
from tui_agent.events import Event

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parent.parent


def fresh(code: str) -> str:
    """Run `code` in a new interpreter on this checkout; its stdout."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_first_screen_loads_no_event_part():
    loaded = json.loads(fresh(
        "import sys, json\n"
        "import tui_agent.cli.main, tui_agent.tui.launch, tui_agent.tui.app, tui_agent.tui.screens.main\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('tui_agent'))))"))
    assert "tui_agent.tui.app" in loaded
    parts = [m for m in loaded if m.startswith("tui_agent.events.") and m != "tui_agent.events.record"]
    assert parts == [], "the first paint waits for these dataclasses"
    assert "tui_agent.tui.narration" not in loaded and "tui_agent.runner" not in loaded


def test_the_parts_name_every_event_type_once():
    events.load_all()
    for part, names in events.PARTS.items():
        module = sys.modules[f"tui_agent.events.{part}"]
        defined = {n for n, c in vars(module).items()
                   if inspect.isclass(c) and issubclass(c, Event) and c.__module__ == module.__name__}
        assert set(names) == defined, part
    assert len(events.__all__) == len(set(events.__all__))
    assert {c.__name__ for c in Event.registry.values()} - {"Event"} == set(events.__all__) - {"Record", "Event"}


def test_every_type_is_read_back_in_a_process_that_loaded_none():
    samples = {}
    for part in events.PARTS.values():
        for name in part:
            kind = getattr(events, name)
            fields = inspect.signature(kind).parameters
            samples[name] = {"type": kind.type, **{f: None for f, p in fields.items() if p.default is p.empty}}
    read = json.loads(fresh(
        "import json, sys\n"
        "from tui_agent.events import Event\n"
        f"samples = json.loads({json.dumps(json.dumps(samples))})\n"
        "before = sorted(m for m in sys.modules if m.startswith('tui_agent.events.'))\n"
        "print(json.dumps([before, {n: type(Event.from_dict(d)).__name__ for n, d in samples.items()}]))"))
    assert read[0] == ["tui_agent.events.record"]
    assert read[1] == {name: name for name in samples}


def test_a_name_that_is_no_event_is_an_attribute_error():
    with pytest.raises(AttributeError, match="NoSuchEvent"):
        events.NoSuchEvent  # noqa: B018
    with pytest.raises(ValueError, match="unknown event type"):
        Event.from_dict({"type": "no_such_event"})
