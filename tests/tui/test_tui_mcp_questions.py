"""Pilot: an MCP server's questions in a real run against server-everything: the form (accept with the defaults
and a required name, decline, cancel), a URL (its domain shown, nothing opened), sampling (approved, denied); a
server's prompt from the command palette."""

from __future__ import annotations

import json
from pathlib import Path

from mcp_fixtures import EVERYTHING, everything  # noqa: F401  (the fixture)
from textual.widgets import Input, TextArea
from tui_fixtures import example_settings, until

from tui_agent.events import QuestionAnswered, SamplingSpent, ToolCallFinished
from tui_agent.sessions.recorder import read_events
from tui_agent.tui.app import AgentApp
from tui_agent.tui.screens.prompt import PromptScreen
from tui_agent.tui.screens.question import QuestionScreen

SIZE = (160, 48)
TOOL = "mcp__everything__"


def call(name: str, **arguments: object) -> dict:
    return {"tool_calls": [{"name": TOOL + name, "arguments": arguments}]}


def settings_for(tmp_path: Path, turns: list[dict]):
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"turns": turns + [{"text": "done"}] * 3}))
    settings = example_settings(tmp_path, trust_project=True, model=f"scripted:{script}")
    (Path(settings.project) / ".mcp.json").write_text(json.dumps({"mcpServers": {
        "everything": {"command": "node", "args": [str(EVERYTHING), "stdio"]}}}))
    return settings


def results(app) -> list[str]:
    return [e.result for e in read_events(app.agent_run.session_dir) if isinstance(e, ToolCallFinished)
            and e.name.startswith(TOOL)]


def first_command(app) -> str:
    """The palette's first offer ("" while it has none)."""
    found = app.screen.query("CommandList")
    return str(found.first().get_option_at_index(0).prompt) if found and found.first().option_count else ""


def shown(app) -> str:
    return str(app.main.permissions.query_one("#call-args").render())


async def allow_the_call_then_see_the_question(app, pilot, kind: str) -> None:
    await until(pilot, lambda: app.state.pending, what="the MCP call asks")
    await pilot.press("y")
    await until(pilot, lambda: [q.kind for q in app.state.questions.values()] == [kind], what=f"a {kind} question")


async def test_the_form_accepted_declined_cancelled_and_a_url_shown_with_its_domain(everything, tmp_path):  # noqa: F811
    app = AgentApp(settings_for(tmp_path, [
        call("trigger-elicitation-request"), call("trigger-elicitation-request"), call("trigger-elicitation-request"),
        call("trigger-url-elicitation", url="https://auth.example.com/login?x=1", message="Sign in")]))
    async with app.run_test(size=SIZE) as pilot:
        await allow_the_call_then_see_the_question(app, pilot, "form")
        assert app.state.phase == "waiting for approval"
        panel = shown(app)
        assert "MCP server everything asks a question" in panel and "Please provide inputs" in panel
        assert "* String" in panel and "Integer  integer (1–100) = 42" in panel and "Monica, Rachel" in panel
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, QuestionScreen), what="the form")
        form = app.screen
        assert form.query_one("#field-6", Input).value == "42", "defaults are filled in"
        await pilot.press("ctrl+s")
        assert "String is required" in str(form.query_one("#question-error").render()), "nothing sent without it"
        form.query_one("#field-6", Input).value = "forty"
        form.query_one("#field-0", Input).value = "Ada"
        await pilot.press("ctrl+s")
        assert "Integer: 'forty' is not a valid integer" in str(form.query_one("#question-error").render())
        form.query_one("#field-6", Input).value = "101"
        await pilot.press("ctrl+s")
        assert "Integer: 101 is out of range (1 to 100)" in str(form.query_one("#question-error").render())
        form.query_one("#field-6", Input).value = "42"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(results(app)) == 1, what="the accepted form's result")
        accepted = results(app)[0]
        assert '"name": "Ada"' in accepted and '"integer": 42' in accepted and '"firstLine": "It was a dark' in accepted
        assert '"untitledMultipleSelectEnum": [\n      "Guitar"' in accepted or '"Guitar"' in accepted

        await allow_the_call_then_see_the_question(app, pilot, "form")
        await pilot.press("n")
        await until(pilot, lambda: len(results(app)) == 2, what="the declined form's result")
        assert "decline" in results(app)[1].lower()

        await allow_the_call_then_see_the_question(app, pilot, "form")
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, QuestionScreen), what="the form")
        await pilot.press("escape")
        await until(pilot, lambda: len(results(app)) == 3, what="the cancelled form's result")
        assert "cancel" in results(app)[2].lower()

        await allow_the_call_then_see_the_question(app, pilot, "url")
        panel = shown(app)
        assert "domain: auth.example.com" in panel and "https://auth.example.com/login?x=1" in panel
        assert "Nothing is opened" in panel
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, QuestionScreen), what="the URL dialog")
        assert "auth.example.com" in str(app.screen.query_one("#question-form").query("Static").first().render())
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(results(app)) == 4, what="the URL's result")
        answers = [(e.action, e.by) for e in read_events(app.agent_run.session_dir) if isinstance(e, QuestionAnswered)]
        assert answers == [("accept", "person"), ("decline", "person"), ("cancel", "person"), ("accept", "person")]
        assert [d.decision for d in app.state.decisions if d.call_id.startswith("q")] == [
            "accept", "decline", "cancel", "accept"]
        await pilot.press("ctrl+q")


async def test_sampling_approved_with_its_cost_counted_then_denied(everything, tmp_path):  # noqa: F811
    app = AgentApp(settings_for(tmp_path, [
        call("trigger-sampling-request", prompt="the answer?", maxTokens=5000),
        {"text": "forty-two", "cost_usd": 0.25},  # the sampling request's answer, from the run's own model
        call("trigger-sampling-request", prompt="again?")]))
    async with app.run_test(size=SIZE) as pilot:
        await allow_the_call_then_see_the_question(app, pilot, "sampling")
        panel = shown(app)
        assert "MCP server everything asks to use your model" in panel and "max tokens: 1024" in panel
        assert "estimated cost: $" in panel and "context: the answer?" in panel and "y approve" in panel
        before = app.state.cost_usd
        await pilot.press("y")
        await until(pilot, lambda: len(results(app)) == 1, what="the approved sampling's result")
        assert "forty-two" in results(app)[0]
        spent = [e for e in read_events(app.agent_run.session_dir) if isinstance(e, SamplingSpent)]
        assert [(e.server, e.cost_usd) for e in spent] == [("everything", 0.25)]
        assert app.state.cost_usd >= before + 0.25

        await allow_the_call_then_see_the_question(app, pilot, "sampling")
        await pilot.press("n")
        await until(pilot, lambda: len(results(app)) == 2, what="the denied sampling's result")
        assert "declined by the person" in results(app)[1]
        assert [d.decision for d in app.state.decisions if d.call_id.startswith("q")] == ["approve", "deny"]
        await pilot.press("ctrl+q")


async def test_a_servers_prompt_from_the_palette_is_shown_with_its_arguments_to_copy(everything, tmp_path):  # noqa: F811
    settings = settings_for(tmp_path, [])
    app = AgentApp(settings.__class__(**{**settings.__dict__, "step": True}))  # paused before iteration 1
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: [s.state for s in app.state.servers] == ["ready"], what="everything ready")
        await pilot.press("ctrl+p")
        await pilot.press(*"Prompt everything/args")
        await until(pilot, lambda: "Prompt everything/args-prompt" in first_command(app),
                    what="the palette offers the prompt")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen), what="the prompt's dialog")
        dialog = app.screen
        await pilot.press("ctrl+s")
        assert "city is required" in str(dialog.query_one("#question-error").render())
        await pilot.press(*"Lisbon")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "Lisbon" in dialog.query_one("#prompt-text", TextArea).text, what="the text")
        assert dialog.query_one("#prompt-text", TextArea).read_only
        await pilot.press("ctrl+y")
        assert app.clipboard == "What's weather in Lisbon?"
        await pilot.press("escape")
        assert not isinstance(app.screen, PromptScreen)
        await pilot.press("ctrl+q")
