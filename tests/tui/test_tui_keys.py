"""Pilot: every key does what the footer says, on a real run (scripted model, real sandbox)."""

from __future__ import annotations

from tui_fixtures import until

from tui_agent.tui.app import AgentApp

SIZE = (160, 48)


def pending(app) -> bool:
    return bool(app.agent_run and app.state.pending and not app.state.paused)  # asked, not at a breakpoint


async def test_step_flag_starts_paused_and_s_steps_one_iteration(calculator):
    app = AgentApp(calculator.__class__(**{**calculator.__dict__, "step": True}))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.state.phase == "paused", what="paused before iteration 1")
        assert app.state.iterations_done == 0 and app.state.pause_reason == "step"
        await pilot.press("s")
        await until(pilot, lambda: pending(app), what="the edit_file permission")
        await pilot.press("y")
        await until(pilot, lambda: app.state.phase == "paused" and app.state.iterations_done == 1,
                    what="paused again after one iteration")
        await pilot.press("ctrl+q")
    assert app.closed and app.return_code == 1


async def test_p_pauses_and_resumes(calculator):
    app = AgentApp(calculator)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.agent_run is not None)
        await pilot.press("p")
        assert app.state.pause_requested or app.state.paused  # the Paused event may already be folded
        assert app.state.phase in ("pausing", "paused", "waiting for approval")
        await until(pilot, lambda: app.state.paused or pending(app), what="a checkpoint or an asked call")
        if not app.state.paused:  # a call asked before the pause waits for its answer; the pause comes after it
            await pilot.press("y")
            await until(pilot, lambda: app.state.paused, what="paused")
        # paused at a checkpoint; one right before a permission is asked shows that call, answerable ahead
        assert app.state.phase == ("waiting for approval" if app.state.pending else "paused")
        done = app.state.iterations_done
        await pilot.pause(0.5)
        assert app.state.iterations_done == done, "nothing runs while paused"
        await pilot.press("p")
        assert not app.state.pause_requested
        await until(pilot, lambda: not app.state.paused, what="the Resumed event folded")
        await pilot.press("x")
        await until(pilot, lambda: app.state.finished is not None)


async def test_y_allows_n_denies(calculator):
    app = AgentApp(calculator)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: pending(app), what="the first edit_file")
        assert "calc.py" in str(app.main.query_one("#call-args").render())
        await pilot.press("n")
        await until(pilot, lambda: any(d.decision == "deny" for d in app.state.decisions))
        denied = [d for d in app.state.decisions if d.name == "edit_file"][0]
        assert (denied.decision, denied.by) == ("deny", "person")
        assert "return None" not in app.agent_run.inner.workspace.files.read_text("calc.py")
        await until(pilot, lambda: pending(app), what="the next edit_file")
        await pilot.press("y")
        edits = lambda: [d.decision for d in app.state.decisions if d.name == "edit_file"]  # noqa: E731
        await until(pilot, lambda: edits() == ["deny", "allow"])
        await pilot.press("x")
        await until(pilot, lambda: app.state.finished is not None)


async def test_a_always_allows_and_shows_the_rule(calculator):
    app = AgentApp(calculator)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: pending(app))
        await pilot.press("a")
        await until(pilot, lambda: app.state.finished is not None, what="the run to end without asking again")
        edits = [d for d in app.state.decisions if d.name == "edit_file"]
        assert edits[0].by == "person" and edits[1].by == "rule" and edits[1].rule == "edit_file(calc.py)"
        assert "edit_file(calc.py)" in str(app.main.query_one("#rules").render())
        assert app.state.phase == "ready to deploy"


async def test_x_stops_and_quit_closes_the_sandbox(calculator):
    app = AgentApp(calculator)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: pending(app))
        await pilot.press("x")
        await until(pilot, lambda: app.state.finished is not None)
        assert app.state.finished.outcome == "stopped" and app.state.phase == "done: stopped"
        run = app.agent_run.inner  # the run itself, under the attach server (attach.shared.Shared)
        await pilot.press("ctrl+q")
    assert app.closed and app.return_code == 1
    assert not run.workspace.path.exists() or run.sandbox is not None


async def test_quit_while_running_stops_the_loop(calculator):
    app = AgentApp(calculator)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.state.started)
        await pilot.press("ctrl+q")
    assert app.closed and app.loop_worker.is_finished
    assert app.finished is not None and app.finished.outcome == "stopped"


async def test_focus_browse_cause_zoom_and_palette(calculator):
    app = AgentApp(calculator)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: pending(app))
        await pilot.press("4")
        assert app.focused is app.main.permissions.options
        await pilot.press("a")
        await until(pilot, lambda: app.state.finished is not None)
        for key, panel in (("1", app.main.plan), ("2", app.main.output), ("3", app.main.fixes.body)):
            await pilot.press(key)
            assert app.focused is panel
        fixes = app.main.fixes
        assert fixes.current.iteration == 2
        await pilot.press("left_square_bracket")
        assert fixes.current.iteration == 1 and fixes.current.cause.iteration == 0
        await pilot.press("right_square_bracket")
        assert fixes.current.iteration == 2
        await pilot.press("c")
        assert fixes.cumulative and "return None" in fixes.cumulative_diff
        await pilot.press("c", "o")
        assert app.focused is app.main.output
        log = app.main.output
        assert log.scroll_y == min(log.marks["check-1"] - log._first, log.max_scroll_y)
        await pilot.press("z")
        assert app.main.maximized is app.main.output
        await pilot.press("z")
        assert app.main.maximized is None
        titles = [c.title for c in app.get_system_commands(app.main)]
        for wanted in ("Pause (p)", "Step (s)", "Allow (y)", "Always (a)", "Deny (n)", "Deploy (d)", "Stop (x)",
                       "Plan (1)", "Output (2)", "Fixes (3)", "Permissions (4)", "Quit (ctrl+q)"):
            assert wanted in titles
