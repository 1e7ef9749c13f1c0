"""Every input from the model is size-bounded: a huge call is refused at once, long arguments are echoed once,
reads are bounded by the bytes read, listings and plans are capped."""

from __future__ import annotations

import asyncio
import json
import os
import tracemalloc

import pytest
from fakes import edit

from tui_agent.agent.bounds import ECHO_OVER, MAX_COMMAND, BoundedAudit, bound_turn, measure, over_cap, shorten
from tui_agent.events import ModelResponded, ToolCallDecided, ToolCallFinished, ToolCallRequested
from tui_agent.models.anthropic_stream import Accumulator
from tui_agent.models.base import MAX_TOOL_ARGUMENTS, ModelTurn, ToolCall
from tui_agent.tools.builtin import MAX_LISTED, MAX_READ, MAX_STEPS, BuiltinTools
from tui_agent.tools.permissions.policy import Policy
from tui_agent.workspace.files import Files
from tui_agent.workspace.gitignore import Ignore

pytestmark = pytest.mark.unit

BIG_COMMAND = "echo " + "a;" * 1_000_000  # 2 MB
DONE = {"text": "done"}


def test_measure_stops_counting_past_its_limit():
    assert measure({"a": "xy", "b": [1, "z"]}, 100) == 1 + 1 + 2 + 2 + 8 + 1  # keys, "xy", the list, 1, "z"
    assert measure(["x" * 10] * 5, 10) == 5 + 10, "counting stops once past the limit (55 in all)"


def test_over_cap_names_the_cap_and_what_to_do():
    assert over_cap("write_file", {"path": "a", "content": "x" * 1000}) is None
    why = over_cap("write_file", {"path": "a", "content": "x" * (MAX_TOOL_ARGUMENTS + 1)})
    assert why is not None and "1,000,000" in why and "nothing ran" in why
    assert over_cap("run_command", {"command": "x" * MAX_COMMAND}) is None
    assert "a single command" in (over_cap("run_command", {"command": "x" * (MAX_COMMAND + 1)}) or "")


def test_shorten_keeps_short_values_and_says_what_it_left_out():
    assert shorten({"path": "a", "n": [1, "b"]}) == {"path": "a", "n": [1, "b"]}
    short = shorten({"content": "y" * (ECHO_OVER + 10)})["content"]
    assert len(short) < 5000 and short.endswith("more characters not shown]")


def test_an_over_long_call_in_a_turn_is_refused_and_shortened_everywhere():
    call = ToolCall("t1", "run_command", {"command": BIG_COMMAND})
    ok = ToolCall("t2", "read_file", {"path": "a"})
    turn = ModelTurn(({"type": "tool_use", "id": "t1", "name": "run_command", "input": call.arguments},
                      {"type": "tool_use", "id": "t2", "name": "read_file", "input": ok.arguments}),
                     tool_calls=(call, ok), raw={"huge": BIG_COMMAND})
    bounded = bound_turn(turn)
    assert bounded.tool_calls[0].error and bounded.tool_calls[1] is ok
    assert len(json.dumps(bounded.content)) < 10_000 and bounded.raw is None


async def test_a_2_mb_command_is_answered_within_a_second_without_reaching_the_rules(fast):
    policy = Policy(allow=["edit_file", "run_command(*)"], deny=["run_command(rm *)"])
    run = fast(turns=[{"tool_calls": [{"name": "run_command", "arguments": {"command": BIG_COMMAND}}]}, DONE],
               policy=policy)
    await run.finish()
    (finished,) = run.of(ToolCallFinished)
    assert finished.is_error and "refused" in finished.result and finished.duration_s < 1.0
    assert run.of(ToolCallDecided) == [], "refused before the permission rules parse it"
    (responded,) = [e for e in run.of(ModelResponded) if any(b.get("type") == "tool_use" for b in e.content)]
    assert len(json.dumps(responded.content)) < 10_000, "the session does not keep the 2 MB"


async def test_a_long_write_runs_whole_and_is_echoed_shortened(fast):
    content = "x = 1\n" * 100_000  # 600 KB: under the cap
    run = fast(turns=[{"tool_calls": [{"name": "write_file", "arguments": {"path": "big.py", "content": content}}]},
                      {"tool_calls": [edit("VALUE = 0\n", "VALUE = 1\n")]}, DONE],
               policy=Policy(allow=["edit_file", "write_file"]))
    await run.finish()
    assert run.workspace.files.read_text("big.py") == content
    requested = next(e for e in run.of(ToolCallRequested) if e.name == "write_file")
    assert requested.shortened and len(requested.arguments["content"]) < 5000
    inputs = [b["input"] for e in run.of(ModelResponded) for b in e.content if b.get("type") == "tool_use"]
    assert {"path": "big.py", "content": content} in inputs, "the model's response keeps it whole, once"


async def test_a_200_mb_write_costs_no_copy(fast):
    content = "y" * 200_000_000
    run = fast(turns=[{"tool_calls": [{"name": "write_file", "arguments": {"path": "big", "content": content}}]},
                      DONE], policy=Policy(allow=["edit_file", "write_file"]))
    tracemalloc.start()
    try:
        await run.finish(timeout=30)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    (finished,) = run.of(ToolCallFinished)
    assert finished.is_error and "refused" in finished.result
    assert not run.workspace.files.resolve("big").exists()
    assert peak < 20_000_000, f"peak {peak / 1e6:.1f} MB while refusing a 200 MB argument"


def _tools(tmp_path) -> BuiltinTools:
    async def no_run(command: str) -> tuple[int | None, str]:
        raise AssertionError("no command runs here")
    return BuiltinTools(Files(tmp_path, Ignore()), no_run, lambda plan: None)


async def test_read_file_of_a_2_gb_sparse_file_reads_only_its_cap(tmp_path):
    with open(tmp_path / "sparse.bin", "wb") as f:
        f.truncate(2 * 1024**3)
    tracemalloc.start()
    try:
        result = await _tools(tmp_path).call("read_file", {"path": "sparse.bin"})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not result.is_error and f"first {MAX_READ:,} of the file's 2,147,483,648 bytes" in result.content
    assert peak < 10 * MAX_READ
    edited = await _tools(tmp_path).call("edit_file", {"path": "sparse.bin", "old_string": "a", "new_string": "b"})
    assert edited.is_error and "too large" in edited.content


async def test_list_files_says_how_many_it_left_out(tmp_path):
    for n in range(MAX_LISTED + 25):
        (tmp_path / f"f{n:05d}").touch()
    result = await _tools(tmp_path).call("list_files", {"path": "."})
    assert len(result.content.splitlines()) == MAX_LISTED + 1 and "and 25 more files" in result.content


async def test_update_plan_is_capped(tmp_path):
    plans: list = []
    tools = BuiltinTools(Files(tmp_path, Ignore()), None, plans.append)
    steps = [{"title": f"s{n}", "status": "pending"} for n in range(100_000)]
    result = await tools.call("update_plan", {"steps": steps})
    assert result.is_error and f"at most {MAX_STEPS} steps" in result.content and plans == []
    result = await tools.call("update_plan", {"steps": [{"title": "t" * 10_000, "status": "pending"}]})
    assert result.is_error and plans == []
    assert not (await tools.call("update_plan", {"steps": steps[:3]})).is_error and len(plans[0]) == 3


def test_the_stream_joins_tool_json_in_linear_time_and_stops_keeping_it_past_the_cap():
    acc = Accumulator(lambda text: None, announce_tools=False)
    acc.feed({"type": "message_start", "message": {"role": "assistant"}})
    acc.feed({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "t",
                                                                          "name": "run_command"}})
    part = "a" * 1000
    acc.feed({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta",
                                                                  "partial_json": '{"command": "'}})
    for _ in range(3_000):  # 3 MB in 1 KB pieces
        acc.feed({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta",
                                                                      "partial_json": part}})
    acc.feed({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": '"}'}})
    acc.feed({"type": "content_block_stop", "index": 0})
    (call,) = acc.tool_calls
    assert call.error and "refused" in call.error and call.arguments == {}


def test_the_audit_log_keeps_long_arguments_shortened(tmp_path):
    audit = BoundedAudit(tmp_path / "audit.jsonl", session_id="s")
    audit.record("write_file", {"path": "a", "content": "z" * 500_000}, "allow", "rule")
    assert os.path.getsize(tmp_path / "audit.jsonl") < 10_000


async def test_a_200k_step_plan_is_refused_at_once(fast):
    run = fast(turns=[{"tool_calls": [{"name": "update_plan", "arguments": {
        "steps": [{"title": "x", "status": "pending"}] * 200_000}}]}, DONE])
    await asyncio.wait_for(run.finish(), 10)
    (finished,) = run.of(ToolCallFinished)
    assert finished.is_error and finished.duration_s < 1.0
    (requested,) = run.of(ToolCallRequested)
    assert len(requested.arguments["steps"]) == 201 and requested.shortened


def test_a_huge_tool_result_is_cut_and_says_so():
    from tui_agent.agent.bounds import MAX_RESULT, bound_result
    from tui_agent.tools.base import ToolResult

    small = ToolResult("ok")
    assert bound_result(small) is small
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA=="}}
    cut = bound_result(ToolResult("r" * (MAX_RESULT + 123), is_error=True, images=(image,)))
    assert cut.is_error and len(cut.content) < MAX_RESULT + 100 and "123 more characters" in cut.content
    assert cut.images == (image,)


def test_a_snapshot_of_a_big_sparse_file_reads_it_in_chunks_and_keeps_it_sparse(tmp_path):
    from tui_agent.workspace import snapshots

    folder, store = tmp_path / "ws", snapshots.ObjectStore(tmp_path / "objects")
    folder.mkdir()
    with open(folder / "sparse.bin", "wb") as f:
        f.truncate(256 * 1024**2)  # hashing is linear: 256 MB keeps the fast tier fast
    (folder / "a.txt").write_text("a\n")
    tracemalloc.start()
    try:
        manifest = snapshots.build(folder, None, {}, store)
        diff = snapshots.render({}, manifest, ["a.txt", "sparse.bin"], None, lambda rel, e: store.get(e[1]))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * snapshots.CHUNK
    stored = store.path(manifest["sparse.bin"][1]).stat()
    assert stored.st_size == 256 * 1024**2 and stored.st_blocks * 512 < 8 * 1024**2, "holes stay holes"
    assert "+a\n" in diff and "Binary files /dev/null and b/sparse.bin differ" in diff
