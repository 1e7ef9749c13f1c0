"""MCP tools in the loop: offered as mcp__<server>__<tool>, behind the permission gate; a broken server is skipped."""

import json
import sys

from loop_fixtures import cli, copy_example, events, of_type, script

TIME_CALL = {"name": "mcp__time__get_current_time", "arguments": {"timezone": "UTC"}}


def _project(tmp_path):
    project = copy_example("calculator", tmp_path / "proj")
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {
        "time": {"command": sys.executable, "args": ["-m", "mcp_server_time"]},
        "broken": {"command": "no-such-mcp-server-binary"},
    }}))
    return project


def _run(tmp_path, project, *flags):
    model = script(tmp_path, [{"tool_calls": [TIME_CALL]}, {"text": "done"}])
    done = cli("run", str(project), "--check", "python3 -m unittest", "--model", model, "--headless",
               "--max-iterations", "1", "--sessions", str(tmp_path / "s"), "--trust-project", *flags)
    assert done.returncode == 1, done.stderr[-2000:]
    return events(done.stdout)


def test_an_allowed_mcp_tool_runs_and_a_broken_server_does_not_stop_the_session(tmp_path):
    printed = _run(tmp_path, _project(tmp_path), "--allow", "mcp__time__*")
    request = of_type(printed, "model_requested")[0]["request"]
    assert "mcp__time__get_current_time" in request["tools"]
    assert not any(name.startswith("mcp__broken__") for name in request["tools"])
    result = of_type(printed, "tool_call_finished")[0]
    assert not result["is_error"] and '"timezone": "UTC"' in result["result"].replace("'", '"')
    assert any("broken" in e["source"] and "not found" in e["message"] for e in of_type(printed, "tool_progress"))


def test_headless_denies_an_mcp_tool_that_would_ask(tmp_path):
    printed = _run(tmp_path, _project(tmp_path))
    decided = of_type(printed, "tool_call_decided")[0]
    assert (decided["decision"], decided["by"]) == ("deny", "headless")
    assert "never asks" in of_type(printed, "tool_call_finished")[0]["result"]


def test_malformed_mcp_json_is_bad_input(tmp_path):
    project = copy_example("calculator", tmp_path / "proj")
    (project / ".mcp.json").write_text('{"mcpServers": {"x": {"args": []}}}')
    done = cli("run", str(project), "--check", "true", "--model", script(tmp_path, [{"text": "x"}]), "--headless",
               "--trust-project")
    assert done.returncode == 2 and ".mcp.json" in done.stderr and "x" in done.stderr
