"""Pilot: permission modes. auto fixes without asking; ask asks; `m` switches to plan, which refuses edits."""

from __future__ import annotations

from tui_fixtures import example_settings, until

from tui_agent.tui.app import AgentApp

SIZE = (160, 48)


def facts(app) -> str:
    return str(app.main.query_one("#facts").render())


async def test_auto_runs_edits_without_asking(tmp_path):
    app = AgentApp(example_settings(tmp_path, mode="auto"))
    asked = []
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.state.finished is not None or (asked.append(1) if app.state.pending else 0),
                    what="the run to end")
        assert not asked, "auto never asks about an edit of the workspace"
        edits = [d for d in app.state.decisions if d.name == "edit_file"]
        assert edits and all((d.decision, d.by) == ("allow", "mode") for d in edits)
        assert app.state.phase == "ready to deploy" and "mode auto" in facts(app)
        await pilot.press("ctrl+q")


async def test_ask_asks_then_m_switches_to_plan_which_refuses_edits(tmp_path):
    app = AgentApp(example_settings(tmp_path, mode="ask", step=True))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.state.phase == "paused", what="paused before iteration 1")
        assert "mode ask" in facts(app)
        await pilot.press("m")
        await until(pilot, lambda: app.state.mode == "plan", what="the ModeChanged event folded")
        assert "mode plan" in facts(app) and app.agent_run.inner.control.gate.policy.mode == "plan"
        await pilot.pause()
        assert "mode plan (m switches): read-only" in str(app.main.query_one("#rules").render())
        await pilot.press("s")
        await until(pilot, lambda: app.state.phase == "paused" and app.state.iterations_done == 1,
                    what="one iteration, nothing asked")
        edit = [d for d in app.state.decisions if d.name == "edit_file"][0]
        assert (edit.decision, edit.by) == ("deny", "mode")
        assert "return None" not in app.agent_run.inner.workspace.files.read_text("calc.py")
        await pilot.press("m")
        await until(pilot, lambda: app.state.mode == "auto", what="back to auto")
        await pilot.press("x")
        await until(pilot, lambda: app.state.finished is not None)
