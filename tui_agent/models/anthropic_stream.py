"""A streamed Messages response assembled from its raw events: content blocks, tool-use arguments, usage."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from tui_agent.models.base import MAX_TOOL_ARGUMENTS, DeltaCallback, ToolCall, Usage

MAX_JSON = 2 * MAX_TOOL_ARGUMENTS  # JSON escapes can double a string: past this the call is over the cap


class Accumulator:
    """Builds the final message from raw stream events, streaming text to on_delta."""

    def __init__(self, on_delta: DeltaCallback, announce_tools: bool) -> None:
        self.on_delta, self.announce_tools = on_delta, announce_tools
        self.msg: dict[str, Any] | None = None
        self.blocks: dict[int, dict] = {}
        self.json: dict[int, list[str]] = {}  # the parts of each tool_use block's JSON, joined at its end
        self.json_size: dict[int, int] = {}
        self.tool_calls: list[ToolCall] = []
        self.stopped = False

    def feed(self, ev: dict) -> None:
        kind = ev.get("type")
        if kind == "message_start":
            self.msg = dict(ev.get("message") or {})
            self.msg["usage"] = dict(self.msg.get("usage") or {})
        elif kind == "content_block_start":
            block = dict(ev.get("content_block") or {})
            self.blocks[ev["index"]] = block
            if block.get("type") == "tool_use":
                self.json[ev["index"]], self.json_size[ev["index"]] = [], 0
                if self.announce_tools:
                    self.on_delta(f"\n[calling {block.get('name')}…]\n")
        elif kind == "content_block_delta":
            found, delta = self.blocks.get(ev["index"]), ev.get("delta") or {}
            if found is None:
                return
            block = found
            dtype = delta.get("type")
            if dtype == "text_delta":
                block["text"] = block.get("text", "") + delta.get("text", "")
                if delta.get("text"):
                    self.on_delta(delta["text"])
            elif dtype == "input_json_delta":
                self._json_part(ev["index"], delta.get("partial_json", ""))
            elif dtype == "thinking_delta":
                block["thinking"] = block.get("thinking", "") + delta.get("thinking", "")
            elif dtype == "signature_delta":
                block["signature"] = delta.get("signature", "")
        elif kind == "content_block_stop":
            self._close(ev["index"])
        elif kind == "message_delta" and self.msg is not None:
            delta = ev.get("delta") or {}
            self.msg["stop_reason"] = delta.get("stop_reason")
            self.msg["stop_sequence"] = delta.get("stop_sequence")
            for k, v in (ev.get("usage") or {}).items():
                if v is not None:  # cumulative totals; absent ones keep the message_start value
                    self.msg["usage"][k] = v
        elif kind == "message_stop":
            self.stopped = True

    def _json_part(self, index: int, part: str) -> None:
        """Keep a part of a tool call's JSON, unless the call is already over the cap (then only count it)."""
        size = self.json_size.get(index, 0) + len(part)
        self.json_size[index] = size
        if size <= MAX_JSON:
            self.json.setdefault(index, []).append(part)

    def _close(self, index: int) -> None:
        block = self.blocks.get(index)
        if block is None or block.get("type") != "tool_use" or index not in self.json:
            return
        raw, error, args = "".join(self.json.pop(index)), None, {}
        if self.json_size.get(index, 0) > MAX_JSON:
            raw, error = "", f"tool arguments over {MAX_TOOL_ARGUMENTS:,} characters: refused, nothing ran"
        try:
            parsed = json.loads(raw) if raw.strip() else {}
            if isinstance(parsed, dict):
                args = parsed
            else:
                error = f"invalid JSON in tool arguments: expected an object, got {type(parsed).__name__}"
        except ValueError as exc:
            snippet = raw if len(raw) <= 200 else raw[:200] + "…"
            error = f"invalid JSON in tool arguments: {exc} in {snippet!r}"
        block["input"] = args
        self.tool_calls.append(ToolCall(id=block.get("id", ""), name=block.get("name", ""),
                                        arguments=args, error=error))

    def message(self) -> dict:
        for index in list(self.json):  # a tool_use block that never got its stop event
            self._close(index)
        msg = dict(self.msg or {"type": "message", "role": "assistant"})
        msg["content"] = [clean(self.blocks[i]) for i in sorted(self.blocks)]
        if msg.get("stop_reason") == "max_tokens":  # a cut-off answer explains its broken JSON
            self.tool_calls = [c if not c.error else dataclasses.replace(
                c, error=c.error + " (the answer hit max_tokens: send smaller edits)") for c in self.tool_calls]
        return msg


def clean(block: dict) -> dict:
    """A content block as it must be sent back in the next request's assistant message."""
    kind = block.get("type")
    if kind == "text":
        out = {"type": "text", "text": block.get("text", "")}
        if block.get("citations"):
            out["citations"] = block["citations"]
        return out
    if kind == "tool_use":
        return {"type": "tool_use", "id": block.get("id"), "name": block.get("name"), "input": block.get("input", {})}
    if kind == "thinking":
        return {"type": "thinking", "thinking": block.get("thinking", ""), "signature": block.get("signature", "")}
    return {k: v for k, v in block.items() if v is not None}


def usage_of(u: dict) -> Usage:
    return Usage(input_tokens=u.get("input_tokens") or 0, output_tokens=u.get("output_tokens") or 0,
                 cache_read_tokens=u.get("cache_read_input_tokens") or 0,
                 cache_write_tokens=u.get("cache_creation_input_tokens") or 0)
