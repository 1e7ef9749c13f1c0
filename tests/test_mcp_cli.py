"""`tui-agent mcp list` and `tui-agent mcp call` against server-everything, through the real command."""

from __future__ import annotations

import json

from loop_fixtures import cli
from mcp_fixtures import everything  # noqa: F401  (the fixture)


def trusted(project: str) -> tuple:
    return ("--path", project, "--trust-project")


def _project(tmp_path, config) -> str:
    servers = {config.name: {"command": config.command, "args": list(config.args)}}
    (tmp_path / ".mcp.json").write_text(json.dumps({"mcpServers": servers}))
    return str(tmp_path)


def test_list_shows_servers_tools_and_their_hints(tmp_path, everything):  # noqa: F811
    done = cli("mcp", "list", _project(tmp_path, everything), "--trust-project", timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "everything (stdio) ready"
    assert "  mcp__everything__echo  [read-only, idempotent]" in lines


def test_call_prints_the_result_and_its_exit_code_says_how_it_went(tmp_path, everything):  # noqa: F811
    project = _project(tmp_path, everything)
    done = cli("mcp", "call", "everything", "echo", '{"message": "hi there"}', *trusted(project), timeout=120)
    assert (done.returncode, done.stdout.strip()) == (0, "Echo: hi there"), done.stderr
    failed = cli("mcp", "call", "everything", "get-sum", '{"a": "x"}', *trusted(project), timeout=120)
    assert failed.returncode == 1 and "MCP error" in failed.stdout


def test_bad_input_is_one_line_and_exit_2(tmp_path, everything):  # noqa: F811
    project = _project(tmp_path, everything)
    for args, needle in ((("everything", "echo", "{bad"), "not JSON"), (("everything", "echo", "[1]"), "JSON object"),
                         (("nowhere", "echo"), "no MCP server 'nowhere'"),
                         (("everything", "no-such-tool"), "has no tool 'no-such-tool'")):
        done = cli("mcp", "call", *args, *trusted(project), timeout=120)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith("tui-agent: error: "), done.stderr
        assert needle in lines[0]


def test_an_untrusted_project_starts_none_of_its_servers(tmp_path):
    """`mcp list/call` start the project's servers, so they pass the project-trust gate: without the person's
    trust (remembered, in their own config, or --trust-project) nothing in the project's .mcp.json runs."""
    marker = tmp_path / "STARTED"
    servers = {"evil": {"command": "sh", "args": ["-c", f"touch {marker}"]}}
    (tmp_path / ".mcp.json").write_text(json.dumps({"mcpServers": servers}))
    for args in (("mcp", "list", str(tmp_path)), ("mcp", "call", "evil", "x", "--path", str(tmp_path))):
        done = cli(*args, timeout=120)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1 and "not trusted" in lines[0], done.stderr
    assert not marker.exists()
    trusted = cli("mcp", "list", str(tmp_path), "--trust-project", timeout=120)
    assert marker.exists(), trusted.stderr
