"""Pilot: a run's MCP servers in an attached window. A live run (real sandbox, real `mcp_server_time` servers, one of
them missing its command at the start) with its attach socket, and a second window (AttachApp over the socket): the
window shows each server's state, tools and reason as the run has them (sanitised: an escape in the reason is shown,
not obeyed), and `r` pressed there restarts the failed server in the run."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import replace
from pathlib import Path

from tui_fixtures import example_settings, until

from tui_agent.agent.gate import PERSON
from tui_agent.attach.client import AttachedRun
from tui_agent.attach.shared import Shared
from tui_agent.commands import Stop
from tui_agent.runner import prepare
from tui_agent.tui.attach_app import AttachApp

SIZE = (160, 48)
ESC = "\x1b"


def states(servers) -> dict[str, str]:
    return {srv.name: srv.state for srv in servers}


def panel(app) -> str:
    return str(app.main.permissions.query_one("#servers").render())


async def test_an_attached_window_shows_the_servers_and_restarts_a_failed_one(tmp_path):
    late = tmp_path / f"bin{ESC}[31m" / "late-time-server"  # missing when the run starts; its path holds an escape
    settings = replace(example_settings(tmp_path, trust_project=True), step=True)  # paused before iteration 1
    (Path(settings.project) / ".mcp.json").write_text(json.dumps({"mcpServers": {
        "time": {"command": sys.executable, "args": ["-m", "mcp_server_time"]},
        "late": {"command": str(late)},
    }}))
    run = await Shared(await prepare(settings, who=PERSON)).start()
    playing = asyncio.ensure_future(run.execute())
    try:
        app = AttachApp(await AttachedRun(run.session_dir).connect())
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: states(app.state.servers) == {"time": "ready", "late": "failed"},
                        what="the run's servers, as the run has them, in the attached window")
            assert states(run.servers()) == {"time": "ready", "late": "failed"}
            shown = panel(app)
            assert "● time ready · " in shown and "get_current_time" in shown and "convert_time" in shown
            assert "✗ late failed: " in shown and "r restarts the failed servers" in shown
            reason = next(srv.reason for srv in app.state.servers if srv.name == "late")
            assert ESC in reason, "the reason arrives as the run said it (plain data)..."
            assert ESC not in shown and "[31m" in shown, "...and is sanitised on display: shown, never obeyed"
            assert app.main.check_action("restart_servers", ()) is True

            late.parent.mkdir()
            late.write_text(f"#!/bin/sh\nexec {sys.executable} -m mcp_server_time\n")
            late.chmod(0o755)
            await pilot.press("r")  # in the attached window: a command to the run
            await until(pilot, lambda: states(run.servers())["late"] == "ready", what="late restarted in the run")
            await until(pilot, lambda: "● late ready · " in panel(app), what="late ready in the attached window")
            assert "r restarts" not in panel(app) and app.main.check_action("restart_servers", ()) is False
            await until(pilot, lambda: any("late is ready" in n.message for n in app._notifications),
                        what="the attached window told that late is ready")
            assert "mcp__late__get_current_time" in [spec.name for spec in run.inner.mcp.specs()]
            await pilot.press("ctrl+q")
        assert not playing.done(), "leaving the attached window leaves the run running"
    finally:
        run.send(Stop())
        await playing
        await run.close()
