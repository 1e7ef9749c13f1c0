"""`tui-agent batch` off a terminal (a log file, CI): a line per task state change, no live table, no escapes."""

from __future__ import annotations

import io

import pytest

from tui_agent.batch.hosts import Host
from tui_agent.batch.run import Progress
from tui_agent.cli.batch import Table

pytestmark = pytest.mark.unit


def test_off_a_terminal_each_start_and_each_end_is_one_line():
    out = io.StringIO()
    table = Table([Host("near", None, 2), Host("far", None, 2)], jobs=2, stream=out)
    p = Progress(3)
    p.running["a"] = "near"
    table.draw(p)
    table.draw(p)  # the ticker redraws every second: nothing new, nothing said
    p.running["b"] = "far"
    table.draw(p)
    p.running.pop("a")
    p.met += 1
    table.finished({"task": "a", "outcome": "met", "host": "near", "iterations": 2, "cost_usd": 0.0}, p)
    table.draw(p)
    p.running["c"] = "near"
    table.draw(p)
    lines = out.getvalue().splitlines()
    assert lines == [
        "[0/3] a: running on near (1 running, 2 queued)",
        "[0/3] b: running on far (2 running, 1 queued)",
        "[1/3] a: met on near (2 iterations, $0.0000) ",
        "[1/3] c: running on near (2 running, 0 queued)",
    ]
    assert "\x1b" not in out.getvalue()


def test_on_a_terminal_the_table_is_redrawn_in_place():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    table = Table([Host("near", None, 2)], jobs=1, stream=out)
    p = Progress(1)
    p.running["a"] = "near"
    table.draw(p)
    table.draw(p)
    text = out.getvalue()
    assert text.count("batch: 1 tasks, 1 jobs") == 2 and "\x1b[3F" in text, "the second draw moves up over the first"
