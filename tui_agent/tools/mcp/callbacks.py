"""The client side of MCP: elicitation, sampling and roots callbacks, asking the person through a ClientHost."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Callable

import mcp_types as types
from pydantic import FileUrl

from tui_agent.models import pricing
from tui_agent.models.base import Model, ModelRequest, ModelTurn, Usage
from tui_agent.tools.mcp.questions import (
    MAX_SAMPLING_TOKENS, ClientHost, ElicitAnswer, Elicitation, SamplingRequest, form_fields,
)

Emit = Callable[[str, str], None]  # (server, message)
USER_REJECTED = -1  # the spec's code for a sampling request the user rejected


class ClientSide:
    """One per manager: answers what servers ask of the client, on behalf of the person (or declines)."""

    def __init__(self, emit: Emit, *, host: ClientHost | None = None, model: Model | None = None,
                 sampling_verdict: Callable[[str], str] | None = None, root: Path | None = None,
                 on_sampled: Callable[[str, ModelTurn], None] | None = None) -> None:
        self.emit, self.host, self.model, self.root = emit, host, model, root
        self.sampling_verdict = sampling_verdict or (lambda server: "ask")
        self.on_sampled = on_sampled

    def client_kwargs(self, server: str) -> dict[str, Any]:
        """The callbacks for one server's `mcp.Client`, each knowing which server is asking."""

        async def elicitation(_ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
            return await self.elicit(server, params)

        async def sampling(_ctx: Any, params: types.CreateMessageRequestParams) -> Any:
            return await self.sample(server, params)

        async def list_roots(_ctx: Any) -> types.ListRootsResult:
            return self.roots()

        kwargs: dict[str, Any] = {"elicitation_callback": elicitation, "sampling_callback": sampling}
        if self.root is not None:
            kwargs["list_roots_callback"] = list_roots
        return kwargs

    def roots(self) -> types.ListRootsResult:
        """The workspace is the one root: never the person's own folder."""
        if self.root is None:
            return types.ListRootsResult(roots=[])
        return types.ListRootsResult(roots=[types.Root(uri=FileUrl(self.root.resolve().as_uri()), name="workspace")])

    async def elicit(self, server: str, params: types.ElicitRequestParams) -> types.ElicitResult:
        if isinstance(params, types.ElicitRequestURLParams):
            question = Elicitation(server, params.message, "url", url=params.url)
        else:
            question = Elicitation(server, params.message, "form", form_fields(params.requested_schema))
        if self.host is None:
            self.emit(server, f"elicitation declined (headless: no one to ask): {question.message[:120]}")
            return types.ElicitResult(action="decline")
        answer = await self.host.elicit(question)
        if answer.action not in ("accept", "decline", "cancel"):
            answer = ElicitAnswer("cancel")
        self.emit(server, f"elicitation: the person chose {answer.action}")
        content = answer.content if answer.action == "accept" and question.mode == "form" else None
        return types.ElicitResult(action=answer.action, content=content)  # type: ignore[arg-type]

    async def sample(self, server: str, params: types.CreateMessageRequestParams) -> Any:
        verdict = self.sampling_verdict(server)
        if verdict == "deny":
            return self._refuse(server, "sampling denied by a rule")
        refused = []
        if params.include_context not in (None, "none"):
            refused.append(f"includeContext={params.include_context}")
        if params.tools:
            refused.append(f"{len(params.tools)} tools (never run for a server)")
        max_tokens = max(1, min(params.max_tokens, MAX_SAMPLING_TOKENS))
        messages = [_anthropic_message(m) for m in params.messages]
        request = SamplingRequest(server, params.system_prompt or "", _as_text(params.messages), max_tokens,
                                  self._estimate(messages, params.system_prompt or "", max_tokens), tuple(refused))
        if verdict != "allow":
            if self.host is None:
                return self._refuse(server, "sampling denied (headless: no rule allows it)")
            if not await self.host.approve_sampling(request):
                return self._refuse(server, "sampling declined by the person")
        if self.model is None:
            return self._refuse(server, "sampling: this client has no model")
        turn = await self.model.complete(ModelRequest(params.system_prompt or "", messages, [], max_tokens),
                                         lambda _text: None)
        if self.on_sampled is not None:
            self.on_sampled(server, turn)
        self.emit(server, f"sampling: answered with {self.model.name} (${turn.cost_usd:.4f})")
        return types.CreateMessageResult(role="assistant", content=types.TextContent(type="text", text=turn.text),
                                         model=self.model.name, stop_reason=_stop_reason(turn.stop_reason))

    def _refuse(self, server: str, why: str) -> types.ErrorData:
        self.emit(server, why)
        return types.ErrorData(code=USER_REJECTED, message=why)

    def _estimate(self, messages: list[dict], system: str, max_tokens: int) -> float:
        chars = len(system) + sum(len(str(m["content"])) for m in messages)
        name = self.model.name.split(":", 1)[-1] if self.model is not None else ""
        with contextlib.suppress(Exception):
            return pricing.cost(name, Usage(input_tokens=chars // 4 + 1, output_tokens=max_tokens))
        return 0.0


def _blocks(message: types.SamplingMessage) -> list[dict]:
    blocks: list[dict] = []
    for block in message.content_as_list:
        if isinstance(block, types.TextContent):
            blocks.append({"type": "text", "text": block.text})
        elif isinstance(block, types.ImageContent):
            blocks.append({"type": "image",
                           "source": {"type": "base64", "media_type": block.mime_type, "data": block.data}})
        else:
            blocks.append({"type": "text", "text": f"[{getattr(block, 'type', 'content')} omitted]"})
    return blocks


def _anthropic_message(message: types.SamplingMessage) -> dict:
    return {"role": message.role, "content": _blocks(message)}


def _as_text(messages: list[types.SamplingMessage]) -> str:
    lines = []
    for message in messages:
        text = " ".join(b.get("text", "[image]") for b in _blocks(message))
        lines.append(f"{message.role}: {text}")
    return "\n".join(lines)


def _stop_reason(reason: str) -> str:
    return {"end_turn": "endTurn", "max_tokens": "maxTokens", "stop_sequence": "stopSequence"}.get(reason, reason)
