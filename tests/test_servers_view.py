"""ServersView, the MCP servers as the app shows them: a plain object handed the state, the run and two callbacks."""

import pytest

from tui_agent.tools.mcp.status import ServerStatus
from tui_agent.tui.servers_view import ServersView
from tui_agent.tui.state import RunState

pytestmark = pytest.mark.unit


class Servers:
    """The one part of a run the view reads: each server's status, as the person would see it change."""

    def __init__(self, *servers: ServerStatus) -> None:
        self.now = servers

    def servers(self) -> tuple[ServerStatus, ...]:
        return self.now


def view(run, ready: bool = True):
    state, shown, said = RunState(), [], []
    servers = ServersView(state, run=lambda: run if ready else None, shown=lambda: shown.append(state.servers),
                          notify=lambda message, **how: said.append((message, how.get("severity", "information"))))
    return servers, state, shown, said


def test_the_panel_is_shown_again_only_when_a_server_changed():
    run = Servers(ServerStatus("git", "starting", None, (), "stdio"))
    servers, state, shown, _ = view(run)
    servers.refresh()
    servers.refresh()
    assert len(shown) == 1 and state.servers[0].state == "starting"
    run.now = (ServerStatus("git", "ready", None, ("git_status",), "stdio"),)
    servers.refresh()
    assert [s[0].state for s in shown] == ["starting", "ready"]


def test_nothing_is_read_while_the_panels_cannot_show_it():
    servers, state, shown, _ = view(Servers(ServerStatus("git", "ready", None, (), "stdio")), ready=False)
    servers.refresh()
    assert shown == [] and state.servers == ()


def test_a_restarted_server_is_told_once_it_is_ready_or_failed_again():
    run = Servers(ServerStatus("git", "ready", None, ("git_status", "git_diff"), "stdio"),
                  ServerStatus("time", "failed", "command not found", (), "stdio"))
    servers, state, _, said = view(run)
    state.restarting |= {"git", "time"}
    servers.changed("git", "restarting in 1s")  # not settled: nothing said
    servers.changed("git", "ready")
    servers.changed("time", "failed: command not found")
    servers.changed("git", "ready")  # told once
    assert said == [("MCP server git is ready: 2 tool(s).", "information"),
                    ("MCP server time is failed: command not found", "error")]
    assert state.restarting == set()
