"""The scripted model: the documented file format, validation errors that name the place, streaming."""

import json

import pytest

from tui_agent.models import create_model
from tui_agent.models.base import BadModelSpec, ModelError, ModelRequest

pytestmark = pytest.mark.unit


def _write(tmp_path, data) -> str:
    path = tmp_path / "m.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return f"scripted:{path}"


async def test_turns_play_in_order_with_tool_calls_and_deltas(tmp_path):
    spec = _write(tmp_path, {"turns": [
        {"text": "reading now", "tool_calls": [{"name": "read_file", "arguments": {"path": "a.py"}}],
         "usage": {"input_tokens": 10, "output_tokens": 5}, "cost_usd": 0.01},
        {"text": "done"},
    ]})
    model, deltas = create_model(spec), []
    request = ModelRequest("sys", [{"role": "user", "content": "go"}], [])
    first = await model.complete(request, deltas.append)
    assert "".join(deltas).strip() == "reading now"
    assert [c.name for c in first.tool_calls] == ["read_file"]
    assert first.content[1]["type"] == "tool_use" and first.stop_reason == "tool_use"
    assert first.usage.input_tokens == 10 and first.cost_usd == 0.01
    second = await model.complete(request, deltas.append)
    assert second.tool_calls == () and second.text == "done"
    with pytest.raises(ModelError, match="ran out of turns"):
        await model.complete(request, deltas.append)


async def test_expect_proves_what_reached_the_model(tmp_path):
    model = create_model(_write(tmp_path, {"turns": [{"expect": "KeyError", "text": "x"}]}))
    request = ModelRequest("sys", [{"role": "user", "content": [{"type": "text", "text": "ValueError"}]}], [])
    with pytest.raises(ModelError, match="expected 'KeyError'"):
        await model.complete(request, lambda t: None)


@pytest.mark.parametrize("content, message", [
    ("{not json", "line 1 column 2"),
    ({"turns": []}, "non-empty"),
    ({"turns": [{"text": "a", "tool_call": []}]}, "turn 1: unknown key"),
    ({"turns": [{"tool_calls": [{"arguments": {}}]}]}, "turn 1 tool call 1"),
])
def test_malformed_files_name_the_place(tmp_path, content, message):
    with pytest.raises(BadModelSpec, match=message):
        create_model(_write(tmp_path, content))


def test_unknown_provider_and_missing_file(tmp_path):
    with pytest.raises(BadModelSpec, match="unknown model spec"):
        create_model("gpt:4")
    with pytest.raises(BadModelSpec, match="not found"):
        create_model(f"scripted:{tmp_path}/nope.json")
