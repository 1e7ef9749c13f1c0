"""The person behind the MCP client in a live run: a server's question (a form, a URL, a sampling request) becomes
a QuestionAsked event, waits for the person's AnswerQuestion / ApproveSampling command, and a QuestionAnswered
event records the choice. Nobody present, or the run stopping: declined (sampling: denied)."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from typing import Any, Callable

from tui_agent.commands import ACTIONS_OF, Reply
from tui_agent.events import Event, QuestionAnswered, QuestionAsked
from tui_agent.tools.mcp.questions import ElicitAnswer, Elicitation, SamplingRequest


class QuestionDesk:
    """A ClientHost: each question waits on a Future the person's command resolves."""

    def __init__(self) -> None:
        self.emit: Callable[[Event], None] = lambda event: None
        self._pending: dict[str, tuple[QuestionAsked, asyncio.Future[tuple[str, dict[str, Any] | None]]]] = {}
        self._ids = itertools.count(1)
        self._closed = False

    async def elicit(self, question: Elicitation) -> ElicitAnswer:
        fields = tuple(dataclasses.asdict(f) for f in question.fields)
        asked = QuestionAsked(self._next_id(), question.server, question.mode, question.message, fields,
                              question.url, question.domain)
        action, content = await self._ask(asked)
        return ElicitAnswer(action, content if action == "accept" else None)

    async def approve_sampling(self, request: SamplingRequest) -> bool:
        asked = QuestionAsked(self._next_id(), request.server, "sampling", system=request.system,
                              prompt=request.prompt, max_tokens=request.max_tokens,
                              estimate_usd=request.estimate_usd, refused=request.refused)
        action, _ = await self._ask(asked)
        return action == "approve"

    def answer(self, question_id: str, action: str, content: dict[str, Any] | None = None) -> Reply:
        """The person's answer; a wrong action for the kind of question, or a question no longer waiting: refused."""
        waiting = self._pending.get(question_id)
        if waiting is None or waiting[1].done():
            return Reply(False, "that question is no longer waiting")
        asked, future = waiting
        if action not in ACTIONS_OF[asked.kind]:
            return Reply(False, f"a {asked.kind} question takes {' / '.join(ACTIONS_OF[asked.kind])}, not {action!r}")
        if content is not None and not isinstance(content, dict):
            return Reply(False, "a form's answer is an object of its fields")
        future.set_result((action, content if asked.kind == "form" else None))
        return Reply(True, "now")

    def close(self) -> None:
        """The run stops: every waiting question is declined (sampling denied), and no new one is asked."""
        self._closed = True
        for asked, future in list(self._pending.values()):
            if not future.done():
                future.set_result(("deny" if asked.kind == "sampling" else "decline", None))

    def start_after(self, asked: int) -> None:
        """A resumed or forked session: its recorded questions keep their ids, new ones follow (q1, q2, ...)."""
        self._ids = itertools.count(asked + 1)

    def _next_id(self) -> str:
        return f"q{next(self._ids)}"

    async def _ask(self, asked: QuestionAsked) -> tuple[str, dict[str, Any] | None]:
        if self._closed:
            return ("deny" if asked.kind == "sampling" else "decline"), None
        future: asyncio.Future[tuple[str, dict[str, Any] | None]] = asyncio.get_running_loop().create_future()
        self._pending[asked.question_id] = (asked, future)
        self.emit(asked)
        try:
            action, content = await future
        finally:
            self._pending.pop(asked.question_id, None)
        by = "stop" if self._closed else "person"
        self.emit(QuestionAnswered(asked.question_id, asked.server, action, tuple(content or ()), by))
        return action, content
