"""The run's ClientHost: a server's question waits for the person's command, is recorded, and a stop declines it."""

from __future__ import annotations

import asyncio

import pytest

from tui_agent.agent.control import Controller
from tui_agent.agent.loop import AgentLoop
from tui_agent.commands import AnswerQuestion, ApproveSampling
from tui_agent.events import Event, QuestionAnswered, QuestionAsked, SamplingSpent
from tui_agent.sessions.recorder import whole_iterations
from tui_agent.tools.mcp.questions import Elicitation, FormField, SamplingRequest

pytestmark = pytest.mark.unit

FORM = Elicitation("srv", "Your name?", "form", (FormField("name", "string", default="Ada"),
                                                  FormField("age", "integer", required=True)))


async def asked(events: list[Event]) -> QuestionAsked:
    while not any(isinstance(e, QuestionAsked) for e in events):
        await asyncio.sleep(0)
    return [e for e in events if isinstance(e, QuestionAsked)][-1]


async def test_a_form_waits_for_the_persons_answer_and_is_recorded_without_its_content():
    control, events = Controller(), []
    control.bind(events.append)
    task = asyncio.create_task(control.questions.elicit(FORM))
    question = await asked(events)
    assert (question.server, question.kind, question.message) == ("srv", "form", "Your name?")
    assert [f["name"] for f in question.fields] == ["name", "age"] and question.fields[0]["default"] == "Ada"
    assert not control.send(AnswerQuestion(question.question_id, "approve")).ok, "a form is not approved"
    assert control.send(AnswerQuestion(question.question_id, "accept", {"name": "Bo", "age": 3})).ok
    answer = await task
    assert (answer.action, answer.content) == ("accept", {"name": "Bo", "age": 3})
    done = events[-1]
    assert isinstance(done, QuestionAnswered) and (done.action, done.fields, done.by) == ("accept", ("name", "age"),
                                                                                          "person")
    assert "Bo" not in str(done.to_dict()), "what the person typed goes to the server only"
    assert not control.send(AnswerQuestion(question.question_id, "decline")).ok, "answered already"


async def test_sampling_is_approved_or_denied_and_a_stop_declines_what_waits():
    control, events = Controller(), []
    control.bind(events.append)
    request = SamplingRequest("srv", "be brief", "user: hi", 100, 0.01)
    task = asyncio.create_task(control.questions.approve_sampling(request))
    question = await asked(events)
    assert (question.kind, question.prompt, question.max_tokens, question.estimate_usd) == ("sampling", "user: hi",
                                                                                            100, 0.01)
    assert control.send(ApproveSampling(question.question_id, True)).ok
    assert await task is True
    task = asyncio.create_task(control.questions.approve_sampling(request))
    while not isinstance(events[-1], QuestionAsked):
        await asyncio.sleep(0)
    control.stop()
    assert await task is False
    assert isinstance(events[-1], QuestionAnswered) and (events[-1].action, events[-1].by) == ("deny", "stop")
    assert (await control.questions.elicit(FORM)).action == "decline", "a stopped run asks nothing more"


def test_the_events_round_trip_through_json():
    for event in (QuestionAsked("q1", "s", "url", "open", url="https://x.example/a", domain="x.example"),
                  QuestionAnswered("q1", "s", "accept", ("a",)), SamplingSpent("s", "m", 0.5)):
        assert Event.from_dict(event.to_dict()) == event


async def test_a_resumed_run_keeps_the_sampling_cost_in_its_budget(fast):
    first = fast(turns=[{"text": "looking", "cost_usd": 0.125}, {"text": "done"}], max_iterations=1)
    await first.finish()
    history = whole_iterations(first.events)
    spent = [SamplingSpent("everything", "scripted", 0.5)]
    resumed = AgentLoop(first.loop.config, first.loop.parts, Controller(policy=first.control.gate.policy))
    resumed.restore(history[:-1] + spent + history[-1:])
    plain = AgentLoop(first.loop.config, first.loop.parts, Controller(policy=first.control.gate.policy))
    plain.restore(history)
    assert resumed.progress.cost_usd == plain.progress.cost_usd + 0.5 and plain.progress.cost_usd > 0


async def test_a_resumed_sessions_new_questions_follow_the_recorded_ones():
    control, events = Controller(), []
    control.bind(events.append)
    control.questions.start_after(2)  # the session recorded q1 and q2
    task = asyncio.create_task(control.questions.elicit(FORM))
    assert (await asked(events)).question_id == "q3"
    control.stop()
    await task
