"""Keep the conversation under the model's window: drop or trim old turns, keep goal, plan and latest failure."""

from __future__ import annotations

import copy
import json
import math
from typing import Any, Callable

EDIT_TOOLS = ("write_file", "edit_file")


def estimate_tokens(obj: Any) -> int:
    """A cheap token estimate: about four characters per token (of the text, or of the JSON)."""
    if obj is None:
        return 0
    if isinstance(obj, str):
        text = obj
    else:
        try:
            text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)
        except (TypeError, ValueError):
            text = str(obj)
    return math.ceil(len(text) / 4)


estimate = estimate_tokens


def trim_output(text: str, max_chars: int = 12000) -> str:
    """Keep the head and the tail of a long output (the tail gets more), with a marker of what was cut."""
    if len(text) <= max_chars:
        return text
    budget = max(max_chars - 40, 20)  # room for the marker
    head_n, tail_n = budget * 2 // 5, budget - budget * 2 // 5
    head, tail = text[:head_n], text[len(text) - tail_n:]
    # cut on line boundaries when that loses little
    nl = head.rfind("\n")
    if nl >= head_n // 2:
        head = head[: nl + 1]
    nl = tail.find("\n")
    if 0 <= nl < tail_n // 2:
        tail = tail[nl + 1:]
    middle = text[len(head): len(text) - len(tail)]
    lines = middle.count("\n")
    what = f"{lines} lines" if lines else f"{len(middle)} chars"
    sep_head = "" if head.endswith("\n") or not head else "\n"
    return f"{head}{sep_head}[... {what} omitted ...]\n{tail}"


def _blocks(message: dict) -> list:
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return list(content or [])


def _groups(messages: list[dict]) -> list[list[dict]]:
    """Split into turns: each starts at an assistant message and holds the user replies after it.

    A tool_result always answers the tool_use of the assistant message just before it, so a
    group is never split, and dropping whole groups never orphans a tool_result.
    """
    groups: list[list[dict]] = []
    for m in messages:
        if m.get("role") == "assistant" or not groups:
            groups.append([m])
        else:
            groups[-1].append(m)
    return groups


def _summary(dropped: list[list[dict]], kept: list[list[dict]]) -> str:
    files: list[str] = []
    commands = 0
    plan: list | None = None
    for group in dropped:
        for m in group:
            if m.get("role") != "assistant":
                continue
            for b in _blocks(m):
                if not isinstance(b, dict) or b.get("type") != "tool_use":
                    continue
                args = b.get("input")
                args = args if isinstance(args, dict) else {}
                if b.get("name") in EDIT_TOOLS and isinstance(args.get("path"), str):
                    if args["path"] not in files:
                        files.append(args["path"])
                elif b.get("name") == "run_command":
                    commands += 1
                elif b.get("name") == "update_plan" and isinstance(args.get("steps"), list):
                    plan = args["steps"]
    if plan is not None and _has_plan(kept):
        plan = None  # a later plan is still in the kept turns
    parts = [f"[{len(dropped)} earlier turn{'s' if len(dropped) != 1 else ''} omitted"]
    detail = []
    if files:
        detail.append("files edited: " + ", ".join(files))
    if commands:
        detail.append(f"{commands} command{'s' if commands != 1 else ''} run")
    text = parts[0] + (": " + "; ".join(detail) if detail else "") + "]"
    if plan:
        steps = "; ".join(f"[{s.get('status', '?')}] {s.get('title', '')}" for s in plan if isinstance(s, dict))
        text += f"\n[plan at that point: {steps}]"
    return text


def _has_plan(groups: list[list[dict]]) -> bool:
    return any(isinstance(b, dict) and b.get("type") == "tool_use" and b.get("name") == "update_plan"
               for g in groups for m in g if m.get("role") == "assistant" for b in _blocks(m))


def _with_note(first: dict, note: str) -> dict:
    out = dict(first)
    out["content"] = _blocks(first) + [{"type": "text", "text": note}]
    return out


def _shrink(message: dict, max_chars: int) -> dict:
    """A copy of a message whose long text and tool_result contents are trimmed to max_chars."""
    out = copy.deepcopy(message)
    if isinstance(out.get("content"), str):
        out["content"] = trim_output(out["content"], max_chars)
        return out
    for b in out.get("content") or []:
        if not isinstance(b, dict):
            continue
        if b.get("type") == "text" and isinstance(b.get("text"), str):
            b["text"] = trim_output(b["text"], max_chars)
        elif b.get("type") == "tool_result":
            if isinstance(b.get("content"), str):
                b["content"] = trim_output(b["content"], max_chars)
            elif isinstance(b.get("content"), list):
                for sub in b["content"]:
                    if isinstance(sub, dict) and isinstance(sub.get("text"), str):
                        sub["text"] = trim_output(sub["text"], max_chars)
        elif b.get("type") == "tool_use" and isinstance(b.get("input"), dict):
            for k, v in b["input"].items():
                if isinstance(v, str) and len(v) > max_chars:
                    b["input"][k] = trim_output(v, max_chars)
    return out


def fit(messages: list[dict], max_tokens: int,
        count: Callable[[Any], int] = estimate_tokens) -> list[dict]:
    """Messages that fit in about `max_tokens`, as a new list (the input is not changed).

    Keeps the first user message (goal and check) and the most recent turns, always including the
    last one (the latest failure and its tool results); whole turns are dropped oldest first, so a
    tool_use and its tool_result stay together, and a note in the first message says what was
    dropped (files edited, commands run, the plan if it was only in the dropped turns). If that is
    not enough, long outputs in the kept turns (older first, then the last) are trimmed head+tail.
    """
    if not messages:
        return []
    total = sum(count(m) for m in messages)
    if total <= max_tokens:
        return list(messages)
    first, rest = messages[0], messages[1:]
    if not rest:
        return [first]  # the goal alone is never cut
    groups = _groups(rest)
    sizes = [sum(count(m) for m in g) for g in groups]
    budget = max_tokens - count(first)
    # keep the newest groups that fit; always keep the last one
    keep_from = len(groups) - 1
    used = sizes[-1]
    while keep_from > 0 and used + sizes[keep_from - 1] <= budget:
        keep_from -= 1
        used += sizes[keep_from]

    def build(k: int) -> list[dict]:
        dropped, kept = groups[:k], groups[k:]
        head = _with_note(first, _summary(dropped, kept)) if dropped else first
        return [head] + [m for g in kept for m in g]

    out = build(keep_from)
    while keep_from < len(groups) - 1 and sum(count(m) for m in out) > max_tokens:
        keep_from += 1  # the note itself took the room of one more turn
        out = build(keep_from)
    # still too big: trim long contents, older kept messages first, the last group last
    current, limit = sum(count(m) for m in out), 8000
    while current > max_tokens and limit >= 500:
        for i in range(1, len(out)):
            if current <= max_tokens:
                break
            before = count(out[i])
            out[i] = _shrink(out[i], limit)
            current += count(out[i]) - before
        limit //= 2
    return out
