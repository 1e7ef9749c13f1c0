"""The events of what an MCP server asks the person: a question (a form, a URL, a sampling request), its answer,
and what an approved sampling request cost (counted in the run's budget, also on resume)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tui_agent.events.record import Event


@dataclass(frozen=True)
class QuestionAsked(Event):
    """A server asks the person; every string here is the server's (untrusted: shown sanitized, never as markup)."""

    type: ClassVar[str] = "question_asked"
    question_id: str
    server: str
    kind: str  # form | url | sampling
    message: str = ""  # form/url: the server's message
    fields: tuple = ()  # form: ({"name", "kind", "title", "description", "required", "default", "choices"}, ...)
    url: str = ""
    domain: str = ""
    system: str = ""  # sampling: the system prompt, the messages as text, the token cap and the estimate
    prompt: str = ""
    max_tokens: int = 0
    estimate_usd: float = 0.0
    refused: tuple = ()  # sampling: what was asked for and is not given (context, tools)


@dataclass(frozen=True)
class QuestionAnswered(Event):
    """The person's answer (accept | decline | cancel; sampling: approve | deny). The content of an accepted form
    goes to the server only: the record keeps which fields were answered, not what was typed."""

    type: ClassVar[str] = "question_answered"
    question_id: str
    server: str
    action: str
    fields: tuple = ()
    by: str = "person"  # person | stop (the run stopped while it waited)


@dataclass(frozen=True)
class SamplingSpent(Event):
    """An approved sampling request's model call: its cost counts in the budget (a resumed run keeps it)."""

    type: ClassVar[str] = "sampling_spent"
    server: str
    model: str
    cost_usd: float
