"""context.fit keeps the goal, the latest failure and tool_use/tool_result pairs; trim_output keeps head and tail."""

from __future__ import annotations

import pytest

from tui_agent.agent.context import estimate_tokens, fit, trim_output

pytestmark = pytest.mark.unit

GOAL = {"role": "user", "content": "Goal: make the tests pass.\nCheck: pytest -q"}


def turn(i: int, *, tool: str = "edit_file", path: str | None = None, output: str = "", failure: str = ""):
    """One agent turn: an assistant tool_use and the user's tool_result (plus, maybe, a check failure)."""
    tid = f"toolu_{i}"
    args = {"path": path or f"f{i}.py", "old_string": "a", "new_string": "b"} if tool == "edit_file" else {
        "command": "pytest"} if tool == "run_command" else {"steps": [{"title": f"step {i}", "status": "done"}]}
    user = [{"type": "tool_result", "tool_use_id": tid, "content": output or f"ok {i} " + "x" * 400}]
    if failure:
        user.append({"type": "text", "text": failure})
    return [{"role": "assistant", "content": [{"type": "text", "text": f"turn {i}"},
                                              {"type": "tool_use", "id": tid, "name": tool, "input": args}]},
            {"role": "user", "content": user}]


def conversation(n: int, **kw) -> list[dict]:
    msgs = [GOAL]
    for i in range(n):
        msgs += turn(i, **kw)
    return msgs


def total(msgs) -> int:
    return sum(estimate_tokens(m) for m in msgs)


def assert_paired(msgs: list[dict]) -> None:
    """Every tool_result answers a tool_use in the assistant message just before it; roles alternate."""
    assert msgs[0]["role"] == "user"
    for prev, cur in zip(msgs, msgs[1:], strict=False):
        assert prev["role"] != cur["role"]
        if cur["role"] == "user" and isinstance(cur["content"], list):
            ids = {b["id"] for b in prev["content"] if b.get("type") == "tool_use"}
            for b in cur["content"]:
                if b.get("type") == "tool_result":
                    assert b["tool_use_id"] in ids
        if cur["role"] == "assistant":
            uses = [b["id"] for b in cur["content"] if b.get("type") == "tool_use"]
            nxt = msgs[msgs.index(cur) + 1] if msgs.index(cur) + 1 < len(msgs) else None
            if uses and nxt is not None:
                got = {b["tool_use_id"] for b in nxt["content"] if b.get("type") == "tool_result"}
                assert set(uses) <= got


def test_estimate_tokens():
    assert estimate_tokens("") == 0 and estimate_tokens("abcd") == 1 and estimate_tokens("abcde") == 2
    assert estimate_tokens({"role": "user", "content": "x" * 400}) > 100
    assert estimate_tokens(None) == 0


def test_small_conversation_unchanged():
    msgs = conversation(3)
    out = fit(msgs, 100_000)
    assert out == msgs and out is not msgs


def test_fit_bounds_and_keeps_goal_and_recent_turns():
    msgs = conversation(60)
    before = repr(msgs)
    out = fit(msgs, 3000)
    assert total(out) <= 3000
    assert repr(msgs) == before  # input untouched
    assert out[0]["content"][0] == {"type": "text", "text": GOAL["content"]}
    note = out[0]["content"][-1]["text"]
    assert note.startswith("[") and "earlier turns omitted" in note and "files edited: f0.py, f1.py" in note
    dropped = int(note[1:].split()[0])
    assert len(out) == 1 + 2 * (60 - dropped)
    assert out[-2:] == msgs[-2:]  # the latest turn untouched
    assert_paired(out)


def test_latest_failure_kept_even_when_huge():
    msgs = conversation(10)
    failure = "Traceback (most recent call last):\n" + "".join(f"  line {i}\n" for i in range(5000)) + \
              "AssertionError: expected 3, got 2\n"
    msgs += turn(99, tool="run_command", failure=failure)
    out = fit(msgs, 4000)
    assert total(out) <= 4000
    last = out[-1]["content"]
    assert last[0]["tool_use_id"] == "toolu_99"  # pair kept
    assert "AssertionError: expected 3, got 2" in last[-1]["text"]  # the tail of the failure kept
    assert "lines omitted" in last[-1]["text"]
    assert out[0]["content"][0]["text"] == GOAL["content"]
    assert_paired(out)


def test_plan_survives_in_the_note_when_its_turn_is_dropped():
    msgs = [GOAL] + turn(0, tool="update_plan")
    for i in range(1, 40):
        msgs += turn(i)
    out = fit(msgs, 2500)
    note = out[0]["content"][-1]["text"]
    assert "plan at that point: [done] step 0" in note


def test_plan_not_repeated_when_a_later_plan_is_kept():
    msgs = [GOAL] + turn(0, tool="update_plan")
    for i in range(1, 40):
        msgs += turn(i)
    msgs += turn(40, tool="update_plan")
    out = fit(msgs, 2500)
    assert "plan at that point" not in out[0]["content"][-1]["text"]
    assert out[-2]["content"][1]["name"] == "update_plan"


def test_several_tool_results_stay_with_their_uses():
    msgs = [GOAL]
    for i in range(30):
        a, b = f"a{i}", f"b{i}"
        msgs.append({"role": "assistant", "content": [
            {"type": "tool_use", "id": a, "name": "read_file", "input": {"path": "x.py"}},
            {"type": "tool_use", "id": b, "name": "run_command", "input": {"command": "ls"}}]})
        msgs.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": a, "content": "y" * 600},
            {"type": "tool_result", "tool_use_id": b, "content": "z" * 600, "is_error": True}]})
    for budget in (800, 1500, 3000, 6000):
        out = fit(msgs, budget)
        assert_paired(out)
        assert total(out) <= budget


def test_string_contents_and_custom_count():
    msgs = [GOAL]
    for i in range(20):
        msgs += [{"role": "assistant", "content": f"answer {i}"}, {"role": "user", "content": f"failure {i}"}]
    out = fit(msgs, 6, count=lambda m: 1)  # every message counts as 1 token
    assert len(out) == 5 and out[-1]["content"] == "failure 19"
    assert "18 earlier turns omitted" in out[0]["content"][-1]["text"]
    assert fit([], 10) == []


def test_trim_output_keeps_head_and_tail():
    text = "".join(f"line {i}\n" for i in range(10_000))
    out = trim_output(text, 2000)
    assert len(out) <= 2000
    assert out.startswith("line 0\n") and out.endswith("line 9999\n")
    assert "lines omitted ...]" in out
    omitted = int(out.split("[... ")[1].split()[0])
    assert len(out.splitlines()) - 1 + omitted == 10_000
    assert trim_output("short", 2000) == "short"


def test_trim_output_one_long_line():
    out = trim_output("x" * 50_000, 1000)
    assert len(out) <= 1000 and "chars omitted" in out
