"""Tool annotations are a server's claims: they only tighten the policy (hints.py), checked on a real server that
lies, through McpManager and through the whole headless run."""

from __future__ import annotations

import json
import sys

import pytest

from loop_fixtures import cli, copy_example, events, of_type, script
from tui_agent.tools.mcp.config import ServerConfig
from tui_agent.tools.mcp.manager import McpManager
from tui_agent.tools.permissions.policy import Policy

HOSTILE = '''
import sys
from mcp_types import ToolAnnotations
from mcp.server.mcpserver import MCPServer
server = MCPServer("hostile", log_level="WARNING")

@server.tool(annotations=ToolAnnotations(destructive_hint=True, read_only_hint=False))
def wipe() -> str:
    return "wiped"

@server.tool(annotations=ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True))
def peek() -> str:  # claims to be read-only: a claim, never a permission
    return "peeked"

@server.tool()
def plain() -> str:  # says nothing of itself
    return "plain done"

server.run()
'''
TOOL = "mcp__hx__"


@pytest.fixture
def hostile(tmp_path) -> ServerConfig:
    script_path = tmp_path / "hostile_server.py"
    script_path.write_text(HOSTILE)
    return ServerConfig("hx", "stdio", command=sys.executable, args=(str(script_path),))


@pytest.mark.unit
def test_claims_only_tighten_the_rules():
    said = {TOOL + "wipe": ("destructive",), TOOL + "peek": ("read-only", "idempotent")}
    hints = lambda name: said.get(name, ())  # noqa: E731

    def verdict(mode: str, allow: tuple[str, ...] = (), deny: tuple[str, ...] = ()):
        p = Policy(mode=mode, allow=list(allow), deny=list(deny))
        p.hints = hints
        return lambda tool: p.evaluate(TOOL + tool, {})

    server_wide = verdict("auto", allow=("mcp__hx",))
    wipe = server_wide("wipe")
    assert (wipe.action, wipe.rule) == ("ask", None) and "destructive" in wipe.reason
    assert server_wide("plain").action == server_wide("peek").action == "allow"
    assert verdict("auto", allow=("mcp__hx__*",))("wipe").action == "ask"
    assert verdict("auto", allow=("mcp__hx__wipe",))("wipe").action == "allow"  # the person named it exactly
    assert verdict("auto", allow=("mcp__hx__wipe",), deny=("mcp__hx",))("wipe").action == "deny"
    assert verdict("auto")("peek").action == "ask"  # read-only is never a reason to run without a rule

    plan = verdict("plan", allow=("mcp__hx",))
    refused = plan("plain")
    assert (refused.action, refused.by) == ("deny", "mode") and "not mark" in refused.reason
    assert plan("wipe").action == "deny"
    assert plan("peek").action == "allow"  # marked read-only and allowed by a rule
    assert verdict("plan")("peek").action == "ask"  # marked read-only: still the person's say
    assert Policy(mode="plan").evaluate(TOOL + "plain", {}).by == "mode"  # no claims known: refused too


async def test_a_real_servers_annotations_reach_the_policy(hostile):
    async with McpManager([hostile]) as m:
        assert m.hints(TOOL + "wipe") == ("destructive",)
        assert m.hints(TOOL + "peek") == ("read-only", "idempotent")
        for mode, expected in (("auto", {"wipe": "ask", "peek": "allow", "plain": "allow"}),
                               ("plan", {"wipe": "deny", "peek": "allow", "plain": "deny"})):
            policy = Policy(mode=mode, allow=["mcp__hx"], hints=m.hints)
            assert {t: policy.evaluate(TOOL + t, {}).action for t in expected} == expected, mode
        result = await m.call(TOOL + "wipe", {})
        assert result.content == "wiped"  # the manager calls what the gate lets through; the gate is the loop's


def _run(tmp_path, hostile: ServerConfig, calls: list[str], *flags: str) -> list[dict]:
    project = copy_example("calculator", tmp_path / "proj")
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {
        "hx": {"command": hostile.command, "args": list(hostile.args)}}}))
    turns: list[dict] = [{"tool_calls": [{"name": TOOL + c, "arguments": {}} for c in calls]}, {"text": "done"}]
    done = cli("run", str(project), "--check", "python3 -m unittest", "--model", script(tmp_path, turns),
               "--headless", "--max-iterations", "1", "--sessions", str(tmp_path / "s"), "--trust-project", *flags)
    assert done.returncode == 1, done.stderr[-2000:]
    return events(done.stdout)


def _outcomes(printed: list[dict]) -> dict[str, tuple[str, str]]:
    decided = {e["name"]: (e["decision"], e["by"]) for e in of_type(printed, "tool_call_decided")}
    return {name.removeprefix(TOOL): decided[name] for name in decided}


@pytest.mark.slow
def test_a_headless_run_asks_for_a_destructive_tool_that_a_server_wide_rule_names(tmp_path, hostile):
    printed = _run(tmp_path, hostile, ["wipe", "plain"], "--allow", "mcp__hx")
    assert _outcomes(printed) == {"wipe": ("deny", "headless"), "plain": ("allow", "rule")}
    finished = {e["name"]: e for e in of_type(printed, "tool_call_finished")}
    assert "destructive" in finished[TOOL + "wipe"]["result"] and "never asks" in finished[TOOL + "wipe"]["result"]
    assert finished[TOOL + "plain"]["result"] == "plain done"
    requested = {e["name"]: e for e in of_type(printed, "tool_call_requested")}
    assert requested[TOOL + "wipe"]["hints"] == ["destructive"]  # shown to the person with the call


@pytest.mark.slow
def test_plan_mode_refuses_mcp_tools_not_marked_read_only(tmp_path, hostile):
    printed = _run(tmp_path, hostile, ["plain", "peek"], "--allow", "mcp__hx", "--mode", "plan")
    assert _outcomes(printed) == {"plain": ("deny", "mode"), "peek": ("allow", "rule")}
    finished = {e["name"]: e["result"] for e in of_type(printed, "tool_call_finished")}
    assert "plan mode" in finished[TOOL + "plain"] and finished[TOOL + "peek"] == "peeked"
