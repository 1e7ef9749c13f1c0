"""What the inspector shows, folded from the event stream: each iteration's requests, responses, tool calls, costs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tui_agent.tui.state import summarize

if TYPE_CHECKING:
    from tui_agent.events import (
        CheckFinished, Event, IterationFinished, ModelResponded, ToolCallDecided, ToolCallFinished, ToolCallRequested,
    )

USAGE_KEYS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


@dataclass
class Turn:
    """One model turn: the exact request (whole message list rebuilt) and the response."""

    iteration: int
    turn: int
    system: str
    messages: list
    request: dict
    response: ModelResponded | None = None


@dataclass
class Call:
    requested: ToolCallRequested
    decided: ToolCallDecided | None = None
    finished: ToolCallFinished | None = None


@dataclass
class IterationTrace:
    iteration: int
    turns: list[Turn] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    check: CheckFinished | None = None
    finished: IterationFinished | None = None

    def usage(self) -> dict[str, int]:
        total = dict.fromkeys(USAGE_KEYS, 0)
        for turn in self.turns:
            for key in USAGE_KEYS:
                total[key] += int((turn.response.usage if turn.response else {}).get(key) or 0)
        return total

    def cost(self) -> float:
        return sum(t.response.cost_usd for t in self.turns if t.response)

    def model_s(self) -> float:
        return sum(t.response.duration_s for t in self.turns if t.response)

    def tools_s(self) -> float:
        return sum(c.finished.duration_s for c in self.calls if c.finished)


@dataclass(frozen=True)
class Item:
    """One selectable thing in the inspector: a label for the list and the JSON-able data it shows and copies."""

    key: str  # stable within an iteration: "summary", "request-1", "response-1", "call-<id>", "check"
    label: str
    data: dict


class Trace:
    """Fed every event (live, resumed or replayed); `items(k)` lists what iteration k's inspector shows."""

    def __init__(self) -> None:
        self.iterations: dict[int, IterationTrace] = {}
        self.messages: list = []  # the whole conversation so far, from the requests' new_messages in order
        self.system = ""
        self._calls: dict[str, Call] = {}

    def _at(self, k: int) -> IterationTrace:
        if k not in self.iterations:
            self.iterations[k] = IterationTrace(k)
        return self.iterations[k]

    def apply(self, event: Event) -> None:
        from tui_agent.events import (  # loaded with the first event, after the first paint
            CheckFinished, IterationFinished, IterationStarted, ModelRequested, ModelResponded, ToolCallDecided,
            ToolCallFinished, ToolCallRequested,
        )

        if isinstance(event, IterationStarted):
            self._at(event.iteration)
        elif isinstance(event, ModelRequested):
            request = dict(event.request)
            self.system = request.get("system") or self.system
            self.messages = self.messages + list(request.get("new_messages") or ())
            self._at(event.iteration).turns.append(
                Turn(event.iteration, event.turn, self.system, self.messages, request))
        elif isinstance(event, ModelResponded):
            turns = self._at(event.iteration).turns
            match = [t for t in turns if t.turn == event.turn and t.response is None]
            if match:
                match[-1].response = event
        elif isinstance(event, ToolCallRequested):
            call = self._calls[event.call_id] = Call(event)
            self._at(event.iteration).calls.append(call)
        elif isinstance(event, ToolCallDecided) and event.call_id in self._calls:
            self._calls[event.call_id].decided = event
        elif isinstance(event, ToolCallFinished) and event.call_id in self._calls:
            self._calls[event.call_id].finished = event
        elif isinstance(event, CheckFinished) and event.iteration in self.iterations:
            self.iterations[event.iteration].check = event
        elif isinstance(event, IterationFinished) and event.iteration in self.iterations:
            self.iterations[event.iteration].finished = event

    @property
    def numbers(self) -> list[int]:
        return sorted(self.iterations)

    def items(self, k: int) -> list[Item]:
        it = self.iterations.get(k)
        if it is None:
            return []
        out = [Item("summary", f"Iteration {k}: tokens, cost, timing", summary(it))]
        by_turn: dict[int, list[Call]] = {}
        for call in it.calls:
            turn = next((t.turn for t in it.turns if t.response and any(
                b.get("id") == call.requested.call_id for b in t.response.content if isinstance(b, dict))), 0)
            by_turn.setdefault(turn, []).append(call)
        for t in it.turns:
            out.append(Item(f"request-{t.turn}", f"Request {t.turn} ({len(t.messages)} messages)", request_data(t)))
            if t.response is not None:
                out.append(Item(f"response-{t.turn}", f"Response {t.turn} ({t.response.stop_reason})",
                                response_data(t.response)))
            for call in by_turn.pop(t.turn, []):
                out.append(call_item(call))
        for calls in by_turn.values():
            out.extend(call_item(call) for call in calls)
        if it.check is not None:
            verdict = "passed" if it.check.passed else f"failed (exit {it.check.exit_code})"
            out.append(Item("check", f"Check {verdict}", check_data(it.check)))
        return out


def summary(it: IterationTrace) -> dict:
    data = {"iteration": it.iteration, "turns": len(it.turns), "tool_calls": len(it.calls), "usage": it.usage(),
            "cost_usd": round(it.cost(), 6), "model_s": round(it.model_s(), 3), "tools_s": round(it.tools_s(), 3)}
    if it.check is not None:
        data["check"] = {"passed": it.check.passed, "exit_code": it.check.exit_code, "duration_s": it.check.duration_s}
    if it.finished is not None:
        data["total_cost_usd"], data["elapsed_s"] = it.finished.cost_usd, it.finished.elapsed_s
    return data


def request_data(t: Turn) -> dict:
    sent = t.request.get("message_count", len(t.messages))
    data = {"iteration": t.iteration, "turn": t.turn, "system": t.system, "tools": list(t.request.get("tools") or ()),
            "max_tokens": t.request.get("max_tokens"), "message_count": sent, "messages": t.messages}
    if isinstance(sent, int) and sent < len(t.messages):
        data["note"] = f"{len(t.messages)} messages in the conversation; {sent} were sent (older turns fit to context)"
    return data


def response_data(r: ModelResponded) -> dict:
    data = {"iteration": r.iteration, "turn": r.turn, "content": list(r.content), "stop_reason": r.stop_reason,
            "usage": dict(r.usage), "cost_usd": r.cost_usd, "duration_s": r.duration_s}
    if r.call_errors:
        data["call_errors"] = dict(r.call_errors)
    return data


def call_item(call: Call) -> Item:
    req, dec, fin = call.requested, call.decided, call.finished
    data: dict = {"call_id": req.call_id, "name": req.name, "arguments": req.arguments}
    if dec is not None:
        data["decision"] = {"decision": dec.decision, "by": dec.by, "rule": dec.rule}
        if dec.arguments is not None:
            data["edited_arguments"] = dec.arguments
    if fin is not None:
        data.update(result=fin.result, is_error=fin.is_error, duration_s=fin.duration_s)
    verdict = "waiting" if dec is None else dec.decision + (" edited" if dec and dec.arguments is not None else "")
    return Item(f"call-{req.call_id}", f"Tool {summarize(req.name, req.arguments)} · {verdict}", data)


def check_data(c: CheckFinished) -> dict:
    return {"iteration": c.iteration, "passed": c.passed, "exit_code": c.exit_code, "duration_s": c.duration_s,
            "timed_out": c.timed_out, "error": c.error, "output_tail": c.output_tail}
