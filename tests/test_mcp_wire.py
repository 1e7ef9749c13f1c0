"""The client protocol as the server sees it: a recorder between McpManager and a real server keeps every message
the client sends (clientInfo, logging/setLevel at the configured level, the MRTR retry), and what comes back
(progress) is checked on @modelcontextprotocol/server-everything; sampling is gated by the run's real rules."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from mcp_fixtures import everything  # noqa: F401  (the fixture)
from test_mcp_everything import Person
from tui_agent import __version__
from tui_agent.models.scripted import ScriptedModel
from tui_agent.tools.mcp import config as mcp_config
from tui_agent.tools.mcp.callbacks import ClientSide
from tui_agent.tools.mcp.config import ServerConfig
from tui_agent.tools.mcp.manager import McpManager, mcp_client_side
from tui_agent.tools.permissions.policy import Policy

# stdin line by line to the log, then to the server (whose stdout is ours): what the client sent, in order
RECORDER = '''
import subprocess, sys
log = open(sys.argv[1], "ab", buffering=0)
server = subprocess.Popen(sys.argv[2:], stdin=subprocess.PIPE)
for line in sys.stdin.buffer:
    log.write(line)
    server.stdin.write(line)
    server.stdin.flush()
server.stdin.close()
sys.exit(server.wait())
'''

MRTR = '''
from typing import Annotated
from pydantic import BaseModel, Field
from mcp.server.mcpserver import Elicit, MCPServer, Resolve
server = MCPServer("mrtr", log_level="WARNING")

class Colour(BaseModel):
    colour: str = Field(default="teal", description="the colour to paint")

def ask() -> Elicit[Colour]:
    return Elicit("Which colour?", Colour)

@server.tool()
def paint(choice: Annotated[Colour, Resolve(ask)]) -> str:
    return "painted " + choice.colour

server.run()
'''


class Wire:
    def __init__(self, tmp_path: Path) -> None:
        self.script, self.log = tmp_path / "recorder.py", tmp_path / "wire.jsonl"
        self.script.write_text(RECORDER)

    def around(self, config: ServerConfig) -> dict:
        """An .mcp.json entry running `config`'s server behind the recorder."""
        return {"command": sys.executable, "args": [str(self.script), str(self.log), config.command, *config.args]}

    def sent(self, method: str) -> list[dict]:
        messages = [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]
        return [m for m in messages if m.get("method") == method]


@pytest.fixture
def wire(tmp_path) -> Wire:
    return Wire(tmp_path)


def _configured(tmp_path: Path, name: str, entry: dict) -> ServerConfig:
    """The server as the person's .mcp.json names it (so the level comes from the config, as a run reads it)."""
    path = tmp_path / "proj" / ".mcp.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"mcpServers": {name: entry}}))
    return mcp_config.read_file(path)[name]


async def test_client_info_and_the_configured_log_level_reach_the_server(everything, wire, tmp_path):  # noqa: F811
    config = _configured(tmp_path, "everything", {**wire.around(everything), "logLevel": "error"})
    assert config.log_level == "error"
    async with McpManager([config]) as m:
        assert m.servers()[0].state == "ready"
    hello = wire.sent("initialize")[0]["params"]
    assert hello["clientInfo"] == {"name": "tui-agent", "version": __version__} and __version__
    assert {"elicitation", "sampling"} <= set(hello["capabilities"])
    assert [m["params"] for m in wire.sent("logging/setLevel")] == [{"level": "error"}]


async def test_without_a_configured_level_the_server_is_asked_for_warnings(everything, wire, tmp_path):  # noqa: F811
    async with McpManager([_configured(tmp_path, "everything", wire.around(everything))]):
        pass
    assert [m["params"] for m in wire.sent("logging/setLevel")] == [{"level": "warning"}]


@pytest.mark.unit
def test_a_log_level_the_spec_does_not_know_names_the_server_and_the_file(tmp_path):
    with pytest.raises(mcp_config.ConfigError, match=r"\.mcp\.json.*server 'x'.*logLevel.*verbose"):
        _configured(tmp_path, "x", {"command": "true", "logLevel": "verbose"})


async def test_progress_notifications_reach_the_tool_call(everything):  # noqa: F811
    progress: list[str] = []
    async with McpManager([everything]) as m:
        result = await m.call("mcp__everything__trigger-long-running-operation", {"duration": 0.3, "steps": 3},
                              progress.append)
    assert not result.is_error and "Steps: 3" in result.content
    assert progress == ["[everything] 1/3", "[everything] 2/3", "[everything] 3/3"]


async def test_an_input_required_result_is_retried_with_the_answers_and_the_state(wire, tmp_path):
    server = tmp_path / "mrtr_server.py"
    server.write_text(MRTR)
    entry = wire.around(ServerConfig("mrtr", "stdio", command=sys.executable, args=(str(server),)))
    config = _configured(tmp_path, "mrtr", {**entry, "logLevel": "error"})
    person = Person()
    events: list[str] = []
    m = McpManager([config], on_event=lambda source, message: events.append(message))
    m.client_side = ClientSide(m._emit, host=person)
    async with m:
        result = await m.call("mcp__mrtr__paint", {})
    assert not result.is_error and result.content == "painted teal", result.content
    assert person.questions[0].message == "Which colour?" and person.questions[0].server == "mrtr"
    assert "elicitation: the person chose accept" in events
    meta = wire.sent("server/discover")[0]["params"]["_meta"]  # 2026-07-28: no handshake, each request says it
    assert meta["io.modelcontextprotocol/protocolVersion"] >= "2026-07-28"
    assert meta["io.modelcontextprotocol/clientInfo"] == {"name": "tui-agent", "version": __version__}
    first, retry = [c["params"] for c in wire.sent("tools/call")]  # the first came back input_required
    assert "inputResponses" not in first and retry["requestState"] and retry["name"] == "paint"
    assert [a["content"] for a in retry["inputResponses"].values()] == [{"colour": "teal"}]  # the person's answer
    assert {c["_meta"]["io.modelcontextprotocol/logLevel"] for c in (first, retry)} == {"error"}  # from the config
    assert wire.sent("logging/setLevel") == []  # replaced by the level in each request's _meta on 2026-07-28


def _run(cost: list[float]) -> SimpleNamespace:
    """The bits of the run the client side touches: its budget and its event stream."""
    return SimpleNamespace(progress=SimpleNamespace(cost_usd=0.0), emit=lambda event: cost.append(event.cost_usd))


@pytest.mark.parametrize(("rules", "asked", "answered"), [
    ({"allow": ["sampling(everything)"]}, False, True),  # a rule allows it: nobody is asked
    ({"deny": ["sampling(everything)"], "allow": ["sampling"]}, False, False),  # deny wins
    ({"allow": ["sampling(other)"]}, True, False),  # another server's rule: the person is asked, and refuses
])
async def test_sampling_follows_the_runs_rules_per_server(everything, tmp_path, rules, asked, answered):  # noqa: F811
    model = ScriptedModel([{"text": "sampled", "cost_usd": 0.5}], name="scripted:sampling")
    person, spent = Person(approve=False), []
    run = _run(spent)
    m = McpManager([everything])
    m.client_side = mcp_client_side(m, model, Policy(**rules), tmp_path, lambda: run, host=person)
    async with m:
        result = await m.call("mcp__everything__trigger-sampling-request", {"prompt": "p"})
    assert bool(person.samplings) == asked
    assert (not result.is_error and "sampled" in result.content) == answered, result.content
    assert spent == ([0.5] if answered else []) and run.progress.cost_usd == (0.5 if answered else 0.0)


async def test_headless_sampling_is_refused_even_when_no_rule_denies_it(everything, tmp_path):  # noqa: F811
    model = ScriptedModel([{"text": "never"}], name="scripted:sampling")
    spent: list[float] = []
    m = McpManager([everything])
    m.client_side = mcp_client_side(m, model, Policy(), tmp_path, lambda: _run(spent), host=None)
    async with m:
        result = await m.call("mcp__everything__trigger-sampling-request", {"prompt": "p"})
    assert result.is_error and "headless" in result.content and spent == []
