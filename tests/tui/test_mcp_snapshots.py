"""Snapshots of the MCP servers list and the model notices (recorded events; the server states are given)."""

from __future__ import annotations

from pathlib import Path

from tui_fixtures import recorded, upto

from tui_agent.config import Settings
from tui_agent.events import Error, Finished, IterationFinished, ModelRequested, ModelRetrying, Paused
from tui_agent.tools.mcp.manager import ServerStatus
from tui_agent.tui.app import AgentApp

BIG, SMALL = (160, 48), (80, 24)
EVENTS = recorded()
SERVERS = (
    ServerStatus("time", "ready", None, ("get_current_time", "convert_time"), "stdio"),
    ServerStatus("ghost", "failed", "command not found: no-such-mcp-server", (), "stdio"),
)
GAVE_UP = "model error: Claude API: overloaded (529) (gave up after 2 retries)"


def replay(events) -> AgentApp:
    return AgentApp(Settings(project=Path("/home/you/calculator")), replay=events)


def paused():
    return upto(EVENTS, lambda e: isinstance(e, IterationFinished) and e.iteration == 1) + [Paused("step", 2)]


def asking():
    return upto(EVENTS, lambda e: isinstance(e, ModelRequested) and e.iteration == 1)


async def with_servers(pilot) -> None:
    await pilot.pause()  # the main screen's panels exist
    pilot.app.servers_view.show(SERVERS)  # what refresh() reads from a live run's McpManager


def test_mcp_servers(snap_compare):
    """PAUSED (stepping, before iteration 2). The Permissions panel, under `No tool call is waiting for you.`,
    has an `MCP servers` section: a green ● `time ready · get_current_time, convert_time`, a red ✗ `ghost
    failed: command not found: no-such-mcp-server`, and the hint `r restarts the failed servers`; then the
    rules in force. The footer offers `r Restart MCP`."""
    assert snap_compare(replay(paused()), terminal_size=BIG, run_before=with_servers)


def test_mcp_servers_small(snap_compare):
    """At 80x24 the MCP servers section (time ready with its tools, ghost failed with its reason) is visible
    in the Permissions panel without scrolling."""
    assert snap_compare(replay(paused()), terminal_size=SMALL, run_before=with_servers)


def test_model_retrying(snap_compare):
    """RETRYING MODEL badge (yellow) in iteration 1; the Plan panel's activity says in bold yellow
    `⟳ model busy: overloaded (529); retry 2 in 4.0 s`."""
    events = asking() + [ModelRetrying(1, 1, "overloaded (529)", 2.0), ModelRetrying(1, 2, "overloaded (529)", 4.0)]
    assert snap_compare(replay(events), terminal_size=BIG)


def test_fatal_error(snap_compare):
    """DONE: ERROR badge (red); the Plan panel says in bold red `✗ model error: Claude API: overloaded (529)
    (gave up after 2 retries)`, the retry notice is gone; an error notification repeats the message."""
    events = asking() + [ModelRetrying(1, 1, "overloaded (529)", 2.0), Error(GAVE_UP, fatal=True, iteration=1),
                         Finished("error", GAVE_UP, 0, 0.0, 1.5)]
    assert snap_compare(replay(events), terminal_size=BIG)
