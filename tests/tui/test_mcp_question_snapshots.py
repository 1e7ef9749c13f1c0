"""Snapshots of an MCP server's questions (recorded events, replayed): a form and a sampling request in the
Permissions panel, the form and URL dialogs, and the hints next to a pending MCP call."""

from __future__ import annotations

from pathlib import Path

from tui_fixtures import recorded, upto

from tui_agent.config import Settings
from tui_agent.events import ModelRequested, QuestionAsked, ToolCallDecided, ToolCallRequested
from tui_agent.tui.app import AgentApp
from tui_agent.tui.screens.question import QuestionScreen

BIG = (160, 48)
TOOL = "mcp__everything__trigger-elicitation-request"
FIELDS = (
    {"name": "name", "kind": "string", "title": "String", "description": "Your full, legal name", "required": True,
     "default": None, "choices": ()},
    {"name": "check", "kind": "boolean", "title": "Boolean", "description": "Agree to the terms", "required": False,
     "default": None, "choices": ()},
    {"name": "integer", "kind": "integer", "title": "Integer", "description": "", "required": False, "default": 42,
     "choices": ()},
    {"name": "friend", "kind": "enum", "title": "Friend", "description": "Choose your favorite friend",
     "required": False, "default": "Monica", "choices": ("Monica", "Rachel", "Joey")},
)
HOSTILE = "Please provide inputs [bold red]not markup[/] \x1b[2Jend"  # no markup; the escape shown, not sent
FORM = QuestionAsked("q1", "everything", "form", HOSTILE, FIELDS)
URL = QuestionAsked("q2", "everything", "url", "Sign in to continue", url="https://auth.example.com/login?x=1",
                    domain="auth.example.com")
SAMPLING = QuestionAsked("q3", "everything", "sampling", system="You are a helpful test server.",
                         prompt="user: What is the answer?", max_tokens=1024, estimate_usd=0.0154,
                         refused=("includeContext=allServers",))


def replay(events) -> AgentApp:
    return AgentApp(Settings(project=Path("/home/you/calculator")), replay=events)


def asking():
    return upto(recorded(), lambda e: isinstance(e, ModelRequested) and e.iteration == 1)


def asked(question: QuestionAsked):
    return asking() + [ToolCallRequested(1, "c1", TOOL, {}), ToolCallDecided("c1", TOOL, "allow", "person"),
                       question]


def dialog(question: QuestionAsked):
    async def run_before(pilot) -> None:
        await pilot.pause()
        pilot.app.push_screen(QuestionScreen(question))
        await pilot.pause()
    return run_before


def test_mcp_question_form(snap_compare):
    """WAITING FOR APPROVAL. The Permissions panel lists `? everything asks: a form`; below, in bold yellow,
    `Waiting for you: y fill in the form (accept / decline / cancel) · n decline`, then `MCP server everything asks
    a question  q1`, the message shown literally (`[bold red]not markup[/]`, the escape as a reversed `\\x1b`), and the
    fields: `* String  string`, `Boolean  boolean`, `Integer  integer = 42`, `Friend  enum (Monica, Rachel, Joey) =
    Monica`.
    The Output panel ends with the heading `── MCP server everything asks for a form to fill in (q1)` in yellow, and a
    warning notice says `MCP server everything asks for a form to fill in: see the Permissions panel (4); ...`."""
    assert snap_compare(replay(asked(FORM)), terminal_size=BIG)


def test_mcp_question_form_dialog(snap_compare):
    """The form dialog titled `MCP server everything asks you`: the message, then each field: String (required,
    empty), Boolean (a switch, off), Integer (42), Friend (a select showing Monica); buttons Accept (ctrl+s),
    Decline (ctrl+d), Cancel (esc)."""
    assert snap_compare(replay(asked(FORM)), terminal_size=BIG, run_before=dialog(FORM))


def test_mcp_question_url_dialog(snap_compare):
    """The URL dialog titled `MCP server everything asks you to open a URL`: `Sign in to continue`,
    `domain: auth.example.com` (reversed), the URL in full, `Nothing is opened: copy the URL ...`."""
    assert snap_compare(replay(asked(URL)), terminal_size=BIG, run_before=dialog(URL))


def test_mcp_sampling_request(snap_compare):
    """The Permissions panel lists `? everything asks: sampling (~$0.0154)`; in bold yellow `Waiting for you:
    y approve (it spends your money) · n deny`; `max tokens: 1024   estimated cost: $0.0154`, `refused:
    includeContext=allServers`, the system prompt and the messages as indented blocks."""
    assert snap_compare(replay(asked(SAMPLING)), terminal_size=BIG)


def test_mcp_call_hints(snap_compare):
    """A pending MCP call: under `Waiting for you: y allow · a always · n deny · e edit`, the line `server
    claims: destructive, open-world` (both in bold yellow), then the call's name and arguments."""
    events = asking() + [ToolCallRequested(1, "c1", "mcp__everything__delete-thing", {"id": 7},
                                           ("destructive", "open-world"))]
    assert snap_compare(replay(events), terminal_size=BIG)
