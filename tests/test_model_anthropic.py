"""The Claude provider, through the real anthropic SDK, against the fake Messages API server on loopback."""

from __future__ import annotations

import asyncio
import time

import pytest

from tui_agent.models import pricing
from tui_agent.models.anthropic import DEFAULT_MODEL, FALLBACK_MODEL, MISSING_KEY, AnthropicModel, newest_sonnet
from tui_agent.models.base import BadModelSpec, ModelError, ModelRequest, ToolSpec, Usage

from fake_anthropic import FakeAnthropic, Fault, Reply, text, tool, tools

pytestmark = pytest.mark.unit

TOOLS = [ToolSpec("read_file", "Read a file", {"type": "object", "properties": {"path": {"type": "string"}}}),
         ToolSpec("edit_file", "Edit a file", {"type": "object", "properties": {"path": {"type": "string"}}})]


@pytest.fixture
def fake():
    with FakeAnthropic() as server:
        yield server


@pytest.fixture
def model(fake, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", fake.api_key)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
    return AnthropicModel("claude-sonnet-4-6", backoff_s=0.001, timeout_s=5)


def request(messages=None, tools_=TOOLS) -> ModelRequest:
    return ModelRequest(system="You fix code.", messages=messages or [{"role": "user", "content": "Fix it."}],
                        tools=list(tools_))


class Recorder:
    def __init__(self) -> None:
        self.deltas: list[str] = []
        self.retries: list[tuple[int, str, float]] = []

    def delta(self, t: str) -> None:
        self.deltas.append(t)

    def retry(self, attempt: int, reason: str, wait_s: float) -> None:
        self.retries.append((attempt, reason, wait_s))


# --- construction ------------------------------------------------------------------------------


def test_missing_key_is_bad_model_spec(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    with pytest.raises(BadModelSpec) as err:
        AnthropicModel("claude-sonnet-4-6")
    assert str(err.value) == MISSING_KEY


def test_default_model_is_newest_undated_sonnet(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    assert AnthropicModel().name == f"anthropic:{DEFAULT_MODEL}"
    assert DEFAULT_MODEL.startswith("claude-sonnet-") and not DEFAULT_MODEL[-8:].isdigit()
    names = ["claude-sonnet-4-5-20250929", "claude-sonnet-4-5", "claude-sonnet-4-6", "claude-sonnet-5",
             "claude-opus-9", "claude-sonnet-10-20990101"]
    assert newest_sonnet(names) == "claude-sonnet-5"
    assert newest_sonnet(["claude-sonnet-4-6", "claude-sonnet-4-10"]) == "claude-sonnet-4-10"
    assert newest_sonnet([]) == FALLBACK_MODEL


# --- streaming, tools, caching, usage ----------------------------------------------------------


async def test_text_deltas_arrive_in_order(fake, model):
    fake.push(text("The failing test expects 3, the function returns 2.", chunk=4))
    rec = Recorder()
    turn = await model.complete(request(), rec.delta, rec.retry)
    assert len(rec.deltas) > 5
    assert "".join(rec.deltas) == "The failing test expects 3, the function returns 2."
    assert turn.text == "The failing test expects 3, the function returns 2."
    assert turn.content == ({"type": "text", "text": turn.text},)
    assert turn.stop_reason == "end_turn" and turn.tool_calls == () and rec.retries == []
    assert turn.raw["role"] == "assistant" and turn.raw["content"] == list(turn.content)


async def test_several_tool_calls_in_one_turn(fake, model):
    fake.push(tools(tool("read_file", {"path": "calc.py"}, id="toolu_a"),
                    tool("edit_file", {"path": "calc.py", "old_string": "a - b", "new_string": "a + b"},
                         id="toolu_b"), say="Reading, then fixing."))
    rec = Recorder()
    turn = await model.complete(request(), rec.delta)
    assert turn.stop_reason == "tool_use"
    assert [(c.id, c.name, c.error) for c in turn.tool_calls] == [("toolu_a", "read_file", None),
                                                                  ("toolu_b", "edit_file", None)]
    assert turn.tool_calls[1].arguments == {"path": "calc.py", "old_string": "a - b", "new_string": "a + b"}
    # blocks exactly as they go back in the next request's assistant message
    assert turn.content == (
        {"type": "text", "text": "Reading, then fixing."},
        {"type": "tool_use", "id": "toolu_a", "name": "read_file", "input": {"path": "calc.py"}},
        {"type": "tool_use", "id": "toolu_b", "name": "edit_file",
         "input": {"path": "calc.py", "old_string": "a - b", "new_string": "a + b"}},
    )
    joined = "".join(rec.deltas)
    assert joined.startswith("Reading, then fixing.")
    assert joined.index("read_file") < joined.index("edit_file")


async def test_request_carries_cache_control_and_streams(fake, model):
    fake.push(text("ok"))
    history = [{"role": "user", "content": "Fix it."},
               {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "read_file",
                                                  "input": {"path": "a.py"}}]},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "x = 1"}]}]
    before = repr(history)
    await model.complete(request(history), lambda t: None)
    body = fake.requests[-1]
    assert body["stream"] is True and body["model"] == "claude-sonnet-4-6" and body["max_tokens"] == 8192
    assert body["system"] == [{"type": "text", "text": "You fix code.", "cache_control": {"type": "ephemeral"}}]
    assert [t["name"] for t in body["tools"]] == ["read_file", "edit_file"]
    assert "cache_control" not in body["tools"][0]
    assert body["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert body["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in str(body["messages"][:-1])
    assert "temperature" not in body
    assert repr(history) == before  # the caller's messages are not changed


async def test_usage_and_cost_with_cache_tokens(fake, model):
    fake.push(text("ok", input_tokens=1000, output_tokens=500, cache_read=20000, cache_write=3000))
    turn = await model.complete(request(), lambda t: None)
    assert turn.usage == Usage(input_tokens=1000, output_tokens=500, cache_read_tokens=20000,
                               cache_write_tokens=3000)
    # sonnet: $3 in, $15 out, $3.75 cache write, $0.30 cache read per million
    expected = (1000 * 3 + 500 * 15 + 3000 * 3.75 + 20000 * 0.30) / 1e6
    assert turn.cost_usd == pytest.approx(expected)
    assert model.pricing_note is None


async def test_prices_overridable_and_unknown_model_costs_zero(fake, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", fake.api_key)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
    fake.push(text("a", input_tokens=1_000_000, output_tokens=0), text("b"))
    m = AnthropicModel("claude-sonnet-4-6", prices={"claude-sonnet": {"input": 1, "output": 2}})
    assert (await m.complete(request(), lambda t: None)).cost_usd == pytest.approx(1.0)
    unknown = AnthropicModel("claude-mythos-5")
    assert (await unknown.complete(request(), lambda t: None)).cost_usd == 0
    assert "no price known for claude-mythos-5" in unknown.pricing_note


def test_bad_price_override_is_bad_input(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    with pytest.raises(BadModelSpec, match="bad price for 'claude-sonnet'"):
        AnthropicModel(prices={"claude-sonnet": {"output": 15}})


def test_price_table():
    u = Usage(1_000_000, 1_000_000, 1_000_000, 1_000_000)
    assert pricing.cost("claude-opus-4-5", u) == pytest.approx(5 + 25 + 0.5 + 6.25)
    assert pricing.cost("claude-opus-4-1-20250805", u) == pytest.approx(15 + 75 + 1.5 + 18.75)
    assert pricing.cost("anthropic:claude-haiku-4-5", u) == pytest.approx(1 + 5 + 0.1 + 1.25)
    assert pricing.cost("claude-3-5-haiku-latest", u) == pytest.approx(0.8 + 4 + 0.08 + 1.0)
    assert pricing.cost("gpt-9", u) == 0 and "gpt-9" in pricing.note("gpt-9")
    assert pricing.cost("claude-sonnet-4-5", u, {"claude-sonnet-4-5": [1, 1, 1, 1]}) == 4


# --- auth and endpoint -------------------------------------------------------------------------


async def test_bearer_auth_version_header_and_base_url(fake, model):
    fake.push(text("ok"))
    await model.complete(request(), lambda t: None)
    h = fake.headers[-1]
    assert h["authorization"] == f"Bearer {fake.api_key}"
    assert h["anthropic-version"]
    assert "x-api-key" not in h
    assert model.base_url == fake.base_url  # from ANTHROPIC_BASE_URL


async def test_auth_token_env_is_accepted_for_gateways(fake, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", fake.api_key)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
    fake.push(text("ok"))
    assert (await AnthropicModel().complete(request(), lambda t: None)).text == "ok"


async def test_wrong_key_is_not_retried(fake, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
    m = AnthropicModel("claude-sonnet-4-6", api_key="sk-wrong", backoff_s=0.001)
    rec = Recorder()
    with pytest.raises(ModelError, match="refused the key .*401.*invalid x-api-key"):
        await m.complete(request(), rec.delta, rec.retry)
    assert rec.retries == [] and len(fake.headers) == 1 and fake.requests == []


async def test_bad_request_is_not_retried(fake, model):
    fake.push(Fault(400, "invalid_request_error", "messages: roles must alternate"))
    rec = Recorder()
    with pytest.raises(ModelError, match="400 invalid_request_error: messages: roles must alternate"):
        await model.complete(request(), rec.delta, rec.retry)
    assert rec.retries == [] and len(fake.requests) == 1


# --- faults ------------------------------------------------------------------------------------


async def test_rate_limit_honours_retry_after(fake, model):
    fake.push(Fault(429, "rate_limit_error", "slow down", headers={"retry-after": "0.3"}), text("done"))
    rec = Recorder()
    t0 = time.monotonic()
    turn = await model.complete(request(), rec.delta, rec.retry)
    assert turn.text == "done"
    assert time.monotonic() - t0 >= 0.3
    assert rec.retries == [(1, "rate_limit_error (HTTP 429): slow down", 0.3)]


@pytest.mark.parametrize("fault", [Fault(500, "api_error", "boom"), Fault(529, "overloaded_error", "Overloaded"),
                                   Fault(503, "api_error", "unavailable")])
async def test_server_errors_are_retried_then_succeed(fake, model, fault):
    fake.push(fault, fault, text("recovered"))
    rec = Recorder()
    turn = await model.complete(request(), rec.delta, rec.retry)
    assert turn.text == "recovered"
    assert [a for a, _, _ in rec.retries] == [1, 2]
    assert all(fault.error_type in r and str(fault.status) in r for _, r, _ in rec.retries)
    assert all(0 < w <= 0.01 for _, _, w in rec.retries)  # exponential from backoff_s, with jitter
    assert len(fake.requests) == 3


async def test_gives_up_after_max_retries_with_one_line(fake, model):
    fake.push(*[Fault(529, "overloaded_error", "Overloaded")] * 5)
    rec = Recorder()
    with pytest.raises(ModelError) as err:
        await model.complete(request(), rec.delta, rec.retry)
    msg = str(err.value)
    assert "\n" not in msg and "overloaded_error" in msg and "gave up after 4 retries" in msg
    assert [a for a, _, _ in rec.retries] == [1, 2, 3, 4] and len(fake.requests) == 5


async def test_error_event_mid_stream_is_retried(fake, model):
    fake.push(Reply([{"type": "text", "text": "I will first"}], chunk=3, error_after=5), text("second try"))
    rec = Recorder()
    turn = await model.complete(request(), rec.delta, rec.retry)
    assert turn.text == "second try"
    assert len(rec.retries) == 1 and "middle of the stream" in rec.retries[0][1]
    assert "overloaded_error" in rec.retries[0][1]
    assert "".join(rec.deltas).startswith("I w")  # the partial text was shown before the fault


async def test_stream_cut_without_message_stop_is_retried(fake, model):
    fake.push(Reply([{"type": "text", "text": "partial"}], hang_after=4, hang_s=0), text("whole"))
    rec = Recorder()
    turn = await model.complete(request(), rec.delta, rec.retry)
    assert turn.text == "whole" and len(rec.retries) == 1


async def test_hanging_stream_times_out_and_is_retried(fake, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", fake.api_key)
    m = AnthropicModel("claude-sonnet-4-6", base_url=fake.base_url, timeout_s=0.4, backoff_s=0.001,
                       max_retries=1)
    fake.push(Reply([{"type": "text", "text": "thinking..."}], hang_after=3, hang_s=10), text("back"))
    rec = Recorder()
    t0 = time.monotonic()
    turn = await m.complete(request(), rec.delta, rec.retry)
    assert turn.text == "back" and time.monotonic() - t0 < 5
    assert len(rec.retries) == 1 and "timed out" in rec.retries[0][1]


async def test_hanging_stream_gives_up(fake, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", fake.api_key)
    m = AnthropicModel("claude-sonnet-4-6", base_url=fake.base_url, timeout_s=0.3, backoff_s=0.001,
                       max_retries=1)
    fake.push(*[Reply([{"type": "text", "text": "x"}], hang_after=2, hang_s=10)] * 2)
    with pytest.raises(ModelError, match="timed out"):
        await m.complete(request(), lambda t: None)


async def test_connection_refused_is_retried_then_fails(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    with FakeAnthropic() as gone:
        url = gone.base_url  # a port that nothing listens on after this block
    m = AnthropicModel("claude-sonnet-4-6", base_url=url, backoff_s=0.001, max_retries=2)
    rec = Recorder()
    with pytest.raises(ModelError, match="connection error"):
        await m.complete(request(), rec.delta, rec.retry)
    assert len(rec.retries) == 2


async def test_invalid_tool_json_becomes_tool_call_error(fake, model):
    fake.push(tools(tool("read_file", {"path": "ok.py"}), tool("edit_file", raw_json='{"path": "a.py", "old'),
                    tool("read_file", raw_json='["not", "an object"]')))
    turn = await model.complete(request(), lambda t: None)
    ok, bad, notobj = turn.tool_calls
    assert ok.error is None and ok.arguments == {"path": "ok.py"}
    assert bad.error.startswith("invalid JSON in tool arguments:") and bad.arguments == {}
    assert notobj.error.startswith("invalid JSON in tool arguments: expected an object")
    # the tool_use blocks can still be sent back (with an empty input) alongside error results
    assert turn.content[1] == {"type": "tool_use", "id": bad.id, "name": "edit_file", "input": {}}


async def test_cut_off_tool_json_says_max_tokens(fake, model):
    fake.push(tools(tool("write_file", raw_json='{"path": "big.py", "content": "def f():\\n    ret'),
                    stop_reason="max_tokens"))
    turn = await model.complete(request(), lambda t: None)
    assert turn.stop_reason == "max_tokens"
    assert "invalid JSON" in turn.tool_calls[0].error and "hit max_tokens" in turn.tool_calls[0].error


def test_cache_breakpoints_never_exceed_four(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    m = AnthropicModel()
    marked = [{"role": "user", "content": [{"type": "text", "text": "a", "cache_control": {"type": "ephemeral"}}]},
              {"role": "assistant", "content": [{"type": "text", "text": "b", "cache_control": {"type": "ephemeral"}}]},
              {"role": "user", "content": "c"}]
    params = m.params(request(marked))
    assert params["messages"][-1] == {"role": "user", "content": "c"}  # system + tools + 2 present = 4
    params = m.params(request([{"role": "user", "content": "c"}]))
    assert params["messages"][-1]["content"] == [{"type": "text", "text": "c", "cache_control": {"type": "ephemeral"}}]
    assert "system" not in m.params(ModelRequest("", [{"role": "user", "content": "x"}], []))
    assert "tools" not in m.params(ModelRequest("s", [{"role": "user", "content": "x"}], []))


async def test_client_works_across_event_loops(fake, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", fake.api_key)
    m = AnthropicModel(base_url=fake.base_url)
    fake.push(text("one"), text("two"))

    def run() -> str:
        return asyncio.run(m.complete(request(), lambda t: None)).text

    assert await asyncio.to_thread(run) == "one"
    assert await asyncio.to_thread(run) == "two"
