"""The client protocol against the reference `@modelcontextprotocol/server-everything` over stdio: elicitation
(form, URL, headless), sampling (approved, refused, by rule), roots, list_changed (logging level, progress,
clientInfo, MRTR: test_mcp_wire)."""

from __future__ import annotations

import json

from mcp_fixtures import everything  # noqa: F401  (the fixture)

from tui_agent.models.scripted import ScriptedModel
from tui_agent.tools.mcp.callbacks import ClientSide
from tui_agent.tools.mcp.config import ServerConfig
from tui_agent.tools.mcp.manager import McpManager
from tui_agent.tools.mcp.questions import ElicitAnswer, Elicitation, SamplingRequest

class Person:
    """Answers as a person at the Permissions panel would: the answers are queued by the test."""

    def __init__(self, *, elicit: ElicitAnswer | None = None, approve: bool = False) -> None:
        self.answer, self.approve = elicit, approve
        self.questions: list[Elicitation] = []
        self.samplings: list[SamplingRequest] = []

    async def elicit(self, question: Elicitation) -> ElicitAnswer:
        self.questions.append(question)
        return self.answer or ElicitAnswer("accept", question.defaults())

    async def approve_sampling(self, request: SamplingRequest) -> bool:
        self.samplings.append(request)
        return self.approve


def manager(config: ServerConfig, events: list, **client: object) -> McpManager:
    m = McpManager([config], on_event=lambda source, message: events.append(message))
    m.client_side = ClientSide(m._emit, **client)  # type: ignore[arg-type]
    return m


async def test_headless_declines_questions_and_denies_sampling_and_says_so(everything, tmp_path):  # noqa: F811
    events: list[str] = []
    async with manager(everything, events, root=tmp_path) as m:
        result = await m.call("mcp__everything__trigger-elicitation-request", {})
        assert "decline" in result.content.lower()
        assert any(e.startswith("elicitation declined (headless") for e in events)
        result = await m.call("mcp__everything__trigger-sampling-request", {"prompt": "hi"})
        assert result.is_error and "headless" in result.content
        assert "sampling denied (headless: no rule allows it)" in events


async def test_a_form_accepted_with_its_defaults_and_a_url_shown_with_its_domain(everything, tmp_path):  # noqa: F811
    events: list[str] = []
    person = Person()
    async with manager(everything, events, host=person, root=tmp_path) as m:
        result = await m.call("mcp__everything__trigger-elicitation-request", {})
        form = person.questions[-1]
        assert form.server == "everything" and form.mode == "form"
        fields = {f.name: f for f in form.fields}
        assert fields["integer"].default == 42 and fields["name"].required
        friends = fields["untitledSingleSelectEnum"]
        assert friends.kind == "enum" and "Rachel" in friends.choices
        assert fields["untitledMultipleSelectEnum"].kind == "multi"
        answer = json.loads(result.content.split("Raw result:", 1)[1])
        assert answer == {"action": "accept", "content": form.defaults()}

        person.answer = ElicitAnswer("accept", {"this": "is never sent for a URL"})
        result = await m.call("mcp__everything__trigger-url-elicitation",
                              {"url": "https://auth.example.com/login?x=1", "message": "Sign in"})
        url = person.questions[-1]
        assert url.mode == "url" and url.domain == "auth.example.com" and url.fields == ()
        assert not result.is_error and "is never sent" not in result.content

        person.answer = ElicitAnswer("cancel")
        result = await m.call("mcp__everything__trigger-elicitation-request", {})
        assert "cancel" in result.content.lower()
        assert "elicitation: the person chose cancel" in events


async def test_sampling_goes_to_the_agents_model_only_when_approved(everything, tmp_path):  # noqa: F811
    events: list[str] = []
    sampled: list[float] = []
    model = ScriptedModel([{"text": "forty-two", "cost_usd": 0.25}], name="scripted:sampling")
    person = Person(approve=False)
    async with manager(everything, events, host=person, root=tmp_path, model=model,
                       on_sampled=lambda server, turn: sampled.append(turn.cost_usd)) as m:
        refused = await m.call("mcp__everything__trigger-sampling-request",
                               {"prompt": "the answer?", "maxTokens": 5000})
        assert refused.is_error and "declined by the person" in refused.content and sampled == []
        request = person.samplings[-1]
        assert "the answer?" in request.prompt and request.max_tokens == 1024  # capped

        person.approve = True
        approved = await m.call("mcp__everything__trigger-sampling-request", {"prompt": "the answer?"})
        assert not approved.is_error and "forty-two" in approved.content
        assert sampled == [0.25]  # the cost goes to the run's budget


async def test_sampling_rules_allow_or_deny_per_server_without_asking(everything, tmp_path):  # noqa: F811
    events: list[str] = []
    model = ScriptedModel([{"text": "ok"}], name="scripted:sampling")
    person = Person(approve=False)
    async with manager(everything, events, host=person, model=model,
                       sampling_verdict=lambda server: "allow" if server == "everything" else "deny") as m:
        result = await m.call("mcp__everything__trigger-sampling-request", {"prompt": "p"})
        assert not result.is_error and person.samplings == []
    async with manager(everything, events, host=person, model=model, sampling_verdict=lambda server: "deny") as m:
        result = await m.call("mcp__everything__trigger-sampling-request", {"prompt": "p"})
        assert result.is_error and "denied by a rule" in result.content and person.samplings == []


async def test_the_workspace_is_the_one_root_and_list_changed_is_followed(everything, tmp_path):  # noqa: F811
    events: list[str] = []
    async with manager(everything, events, root=tmp_path) as m:
        result = await m.call("mcp__everything__get-roots-list", {})
        assert tmp_path.resolve().as_uri() in result.content and "1 total" in result.content
    assert any(e.startswith("tools changed:") for e in events)  # list_changed: the conditional tools appeared

