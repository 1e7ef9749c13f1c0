"""Pilot: what a terminal would act on (OSC, C1, bidi controls) is shown as visible escapes in every widget, and
markup in foreign text stays text: recorded events replayed, plus a hostile model's events."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import TextArea
from tui_fixtures import recorded, upto

from tui_agent.config import Settings
from tui_agent.events import (
    Error, FixApplied, ModelDelta, ModelRequested, OutputChunk, PlanUpdated, ToolCallRequested,
)
from tui_agent.tui.app import AgentApp
from tui_agent.tui.screens.deploy import Checklist, DeployScreen
from tui_agent.tui.screens.edit_call import EditCallScreen

SIZE = (160, 48)
TITLE = "\x1b]0;PWNED-TITLE\x1b\\"  # OSC 0 ended by ESC \ : sets the window title
CLIP = "\x1b]52;c;dG91Y2ggSElEREVOX1BXTg==\x1b\\"  # OSC 52: writes the clipboard
HIDE = "\u202e"  # right-to-left override
C1 = "\x9b"  # the 8-bit CSI
RAW = ("\x1b", "\u202e", "\x9b", "\x07")


def asking() -> list:
    return upto(recorded(), lambda e: isinstance(e, ModelRequested) and e.iteration == 1)


def hostile() -> list:
    return [
        ModelDelta(1, f"I will fix it.{TITLE}[bold red]fake[/]{HIDE}txt"),
        PlanUpdated(({"title": f"step one{CLIP}{C1}", "status": "in_progress"},)),
        OutputChunk(1, "stdout", f"\x1b[32mgreen ok\x1b[0m and {HIDE}evil\n"),
        FixApplied(1, f"diff --git a/x{TITLE}.py b/x.py\n+x = \"{CLIP}\"\n", (f"x{TITLE}.py",)),
        ToolCallRequested(1, "toolu_h", "run_command", {"command": f"echo tests-ok{TITLE}{HIDE}; touch HIDDEN_PWN"}),
        Error(f"MCP server failed: {CLIP}[link=http://e.vil]click[/link]{C1}"),
    ]


def shown(widget) -> str:
    return str(widget.render())


def assert_visible(text: str, *escapes: str) -> None:
    for raw in RAW:
        assert raw not in text, f"{raw!r} reached the screen: {text!r}"
    for escape in escapes:
        assert escape in text, f"{escape!r} not shown in {text!r}"


async def test_every_widget_shows_hidden_characters_as_escapes():
    app = AgentApp(Settings(project=Path("/home/you/calculator")), replay=asking() + hostile())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        main = app.main
        assert_visible(shown(main.plan.query_one("#activity")), "\\x1b]0;PWNED-TITLE\\x1b\\", "\\u202e", "[bold red]")
        assert_visible(shown(main.plan.query_one("#steps")), "\\x1b]52;c;", "\\x9b")
        assert_visible(shown(main.permissions.query_one("#call-args")), "\\x1b]0;PWNED-TITLE", "\\u202e",
                       "touch HIDDEN_PWN")
        assert_visible(shown(main.fixes.query_one("#fix-diff")), "\\x1b]52;c;", "\\x1b]0;PWNED-TITLE")
        assert_visible(shown(main.fixes.query_one("#fix-title")), "\\x1b]0;PWNED-TITLE")
        log = main.output
        lines = [log.render_line(y).text for y in range(log.size.height)]
        assert_visible("\n".join(lines), "\\u202eevil", "green ok")
        notices = [n.message for n in app._notifications]
        assert any("[link=http://e.vil]click[/link]" in m for m in notices), notices
        for message in notices:
            assert_visible(message)
        svg = app.export_screenshot()
        assert_visible(svg)


async def test_the_edit_dialog_and_the_deploy_screen_show_escapes():
    app = AgentApp(Settings(project=Path("/home/you/calculator")), replay=asking() + hostile())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        call = app.state.pending["toolu_h"]
        await app.push_screen(EditCallScreen(call, at_breakpoint=False))
        await pilot.pause()
        text = app.screen.query_one(TextArea).text
        assert_visible(text, "\\u001b]0;PWNED-TITLE\\u001b\\\\", "\\u202e")
        assert_visible(str(app.screen.query_one("#edit-dialog").border_title))
        app.pop_screen()
        checklist = Checklist(f"/home/you/{HIDE}calc", True, 1, 5, 0.0, None, (f"x{TITLE}.py",), f"make {CLIP}")
        deploy = DeployScreen(f"+x = \"{CLIP}\"\n", checklist)
        await app.push_screen(deploy)
        await pilot.pause()
        texts = [shown(w) for w in app.screen.query("Static, Label")]
        assert_visible("\n".join(texts), "\\u202ecalc", "x\\x1b]0;PWNED-TITLE", "make \\x1b]52;c;")


def test_a_new_string_with_hidden_characters_is_edited_as_json_only():
    from tui_agent.tui.screens.edit_call import plain_editable

    assert plain_editable("edit_file", {"new_string": "x = 1\n\ty = 2\n"})
    assert not plain_editable("edit_file", {"new_string": f"x = '{TITLE}'"})
    assert not plain_editable("write_file", {"new_string": "x"})


async def test_the_inspector_shows_escapes():
    from tui_agent.tui.screens.inspector import InspectorScreen

    app = AgentApp(Settings(project=Path("/home/you/calculator")), replay=asking() + hostile())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("i")
        screen = app.screen
        assert isinstance(screen, InspectorScreen)
        keys = [i.key for i in screen.shown]
        screen.items_list.highlighted = keys.index("call-toolu_h")
        await pilot.pause()
        assert_visible(shown(screen.query_one("#insp-text")), "\\x1b]0;PWNED-TITLE", "\\u202e", "touch HIDDEN_PWN")
        labels = [str(screen.items_list.get_option_at_index(n).prompt) for n in range(len(keys))]
        assert_visible("\n".join(labels))
        assert_visible(app.export_screenshot())
