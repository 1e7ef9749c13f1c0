"""Pilot: `tui-agent review` on a finished headless session (as a batch leaves them): the fix is ready to
deploy, approving copies it into the folder; a session whose goal was not met offers nothing to deploy."""

from __future__ import annotations

from tui_fixtures import example_settings, tree, until

from tui_agent.agent.gate import NOBODY
from tui_agent.review import ReviewRun
from tui_agent.runner import prepare
from tui_agent.tui.app import AgentApp
from tui_agent.tui.screens.deploy import DeployScreen

SIZE = (160, 48)


async def headless_session(settings):
    """A run as the batch makes them: not interactive, nothing deployed; its session folder."""
    run = await prepare(settings, who=NOBODY)
    try:
        await run.execute()
    finally:
        await run.close()
    return run.session_dir


async def test_review_a_met_session_then_deploy(tmp_path):
    settings = example_settings(tmp_path, permissions={"allow": ["edit_file", "write_file"]})
    session = await headless_session(settings)
    before = tree(settings.project)
    review = ReviewRun(session)
    app = AgentApp(review.settings, run=review)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.state.deploy_ready is not None, what="the deploy gate")
        assert tree(settings.project) == before, "nothing reaches the folder before the person approves"
        await pilot.press("d")
        assert isinstance(app.screen, DeployScreen)
        await pilot.press("y")
        await until(pilot, lambda: app.state.deployed is not None, what="deployed")
        await pilot.press("ctrl+q")
    assert "return None" in (settings.project / "calc.py").read_text()


async def test_review_of_a_session_that_did_not_meet_its_goal_deploys_nothing(tmp_path):
    settings = example_settings(tmp_path, max_iterations=1, permissions={"allow": ["edit_file", "write_file"]})
    session = await headless_session(settings)
    before = tree(settings.project)
    review = ReviewRun(session)
    app = AgentApp(review.settings, run=review)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.state.finished is not None, what="the record")
        assert app.state.deploy_ready is None
        await pilot.press("d")
        assert not isinstance(app.screen, DeployScreen)
    assert tree(settings.project) == before
