"""Pilot: the MCP servers in the Permissions panel (state, tools, a failed one restarted with r), on a real run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tui_fixtures import example_settings, until

from tui_agent.tui.app import AgentApp

SIZE = (160, 48)


def servers_text(app) -> str:
    return str(app.main.permissions.query_one("#servers").render())


def plan_activity(app) -> str:
    return str(app.main.plan.query_one("#activity").render())


def by_name(app) -> dict:
    return {srv.name: srv for srv in app.state.servers}


async def test_servers_listed_a_missing_command_fails_the_run_goes_on_and_r_restarts_it(tmp_path):
    late = tmp_path / "bin" / "late-time-server"  # missing when the run starts, installed later
    settings = example_settings(tmp_path, trust_project=True)  # its .mcp.json is written after the settings load
    settings = settings.__class__(**{**settings.__dict__, "step": True})  # paused before iteration 1
    (Path(settings.project) / ".mcp.json").write_text(json.dumps({"mcpServers": {
        "time": {"command": sys.executable, "args": ["-m", "mcp_server_time"]},
        "late": {"command": str(late)},
    }}))
    app = AgentApp(settings)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: {n: s.state for n, s in by_name(app).items()} == {"time": "ready", "late": "failed"},
                    what="time ready and late failed")
        await until(pilot, lambda: app.state.phase == "paused", what="the baseline check, then paused")
        assert 0 in app.state.checks, "the session went on without the failed server"
        shown = servers_text(app)
        assert "MCP servers" in shown
        assert "● time ready · " in shown and "get_current_time" in shown and "convert_time" in shown
        assert "✗ late failed: " in shown and by_name(app)["late"].reason.split()[0] in shown
        assert "r restarts the failed servers" in shown
        assert "progress: mcp:" in plan_activity(app), "the servers' progress lines reach the activity line"
        assert app.main.check_action("restart_servers", ()) is True

        late.parent.mkdir()
        late.write_text(f"#!/bin/sh\nexec {sys.executable} -m mcp_server_time\n")
        late.chmod(0o755)
        await pilot.press("r")
        await until(pilot, lambda: by_name(app)["late"].state == "ready", what="late restarted")
        assert "● late ready · " in servers_text(app) and "r restarts" not in servers_text(app)
        assert app.main.check_action("restart_servers", ()) is False, "the key is hidden when no server has failed"
        # the panel may show the new state (polled) before the server's own "ready" line reaches the app
        await until(pilot, lambda: any("late is ready" in n.message for n in app._notifications),
                    what="the person told that late is ready")
        assert "mcp__late__get_current_time" in [spec.name for spec in app.agent_run.inner.mcp.specs()]
        await pilot.press("ctrl+q")
    assert app.closed and all(srv.state in ("stopped", "failed") for srv in app.agent_run.inner.mcp.servers())
