"""Pilot: the per-hunk review (h) in `tui-agent review` of a finished session made by a real headless run (scripted
model, real sandbox): a rejected hunk fails the recheck in a sandbox of the session's backend (docker; bwrap for a
bwrap session), started for it and closed after; accepted, the approved bytes land; u undoes it. With no engine the
recheck says so in one line and the person deploys anyway or goes back. The same safeties as a live run: a folder
changed underneath is refused at once, a whole deploy waits for the recheck. Feedback needs a model: refused."""

from __future__ import annotations

import asyncio

import docker
from sandbox_fixtures import require_backend
from test_tui_review import headless_session
from tui_fixtures import REPO, example_settings, tree, until

from tui_agent.commands import Deploy, Feedback
from tui_agent.events import Deployed, DeployReady, DeployRefused, RecheckFinished
from tui_agent.review import ReviewRun
from tui_agent.sandbox.docker.ours import WORKSPACE_LABEL
from tui_agent.tui.app import AgentApp
from tui_agent.tui.screens.hunk_confirm import HunkConfirmScreen
from tui_agent.tui.screens.hunks import HunkReviewScreen

SIZE = (160, 48)
ORIGINAL = (REPO / "examples" / "calculator" / "calc.py").read_text()
DIVIDE = "    if b == 0:\n        return None\n"


def sandbox_containers(review: ReviewRun) -> int:
    """The sandbox containers on this session's workspace (other tests' are not counted)."""
    assert review.workspace is not None
    client = docker.from_env()
    try:
        found = client.api.containers(all=True, filters={"label": f"{WORKSPACE_LABEL}={review.workspace.path}"})
        return len(found)
    finally:
        client.close()


async def made_session(tmp_path):
    settings = example_settings(tmp_path, permissions={"allow": ["edit_file", "write_file"]})
    return settings, await headless_session(settings)


async def open_review(pilot, app) -> HunkReviewScreen:
    await until(pilot, lambda: app.state.deploy_ready is not None, what="the deploy gate")
    await pilot.press("h")
    assert isinstance(app.screen, HunkReviewScreen), "h opens the per-hunk review in a review as in a live run"
    return app.screen


async def test_review_rejected_hunk_fails_the_recheck_accepted_deploys_then_undo(tmp_path):
    settings, session = await made_session(tmp_path)
    before = tree(settings.project)
    review = ReviewRun(session)
    app = AgentApp(review.settings, run=review)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot, app)
        assert review._gate is None, "no sandbox before a recheck is asked for"
        assert review.settings.sandbox == "docker (for a recheck)", "the session's backend, shown in the status"
        await pilot.press("down", "r")  # hunk 1 (divide) rejected: test_divide fails on the subset
        assert not screen.selection.hunks[0, 0]
        await pilot.press("y", "y")
        confirm = app.screen
        assert isinstance(confirm, HunkConfirmScreen)
        await until(pilot, lambda: confirm.phase == "failed", what="the failed recheck")
        assert "FAILS" in str(confirm.query_one("#hunk-confirm-status").render())
        assert "test_divide" in str(confirm.query_one("#hunk-recheck-output").render())
        assert tree(settings.project) == before, "a failed recheck writes nothing"
        assert sandbox_containers(review) == 0, "the recheck's sandbox is closed after it"
        await pilot.press("escape")
        assert app.screen is screen
        await pilot.press("a")  # the same hunk, accepted again: everything goes
        await pilot.press("y", "y")
        await until(pilot, lambda: app.state.deployed is not None, what="the deploy")
        landed = (settings.project / "calc.py").read_text()
        assert DIVIDE in landed and "return sum(numbers) / len(numbers)\n" in landed
        assert sandbox_containers(review) == 0
        assert review.send(Feedback((("calc.py", "hunk", "why"),))).ok is False
        await pilot.press("u")
        await until(pilot, lambda: (settings.project / "calc.py").read_text() == ORIGINAL, what="the undo")
        await pilot.press("ctrl+q")
    assert tree(settings.project) == before


async def test_review_recheck_without_an_engine_says_so_then_deploy_anyway(tmp_path, monkeypatch):
    settings, session = await made_session(tmp_path)
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")  # the session's backend has no engine now
    review = ReviewRun(session)
    app = AgentApp(review.settings, run=review)
    async with app.run_test(size=SIZE) as pilot:
        await open_review(pilot, app)
        await pilot.press("y", "y")
        confirm = app.screen
        assert isinstance(confirm, HunkConfirmScreen)
        await until(pilot, lambda: confirm.phase == "failed", what="the recheck that cannot run")
        status = str(confirm.query_one("#hunk-confirm-status").render())
        assert "The recheck cannot run: sandbox docker is not available" in status or (
            "The recheck cannot run:" in status and "docker" in status.lower()), status
        assert "FAILS" not in status
        assert (settings.project / "calc.py").read_text() == ORIGINAL
        await pilot.press("y")  # the person decides: deploy anyway
        await until(pilot, lambda: app.state.deployed is not None, what="deploy anyway")
        await pilot.press("ctrl+q")
    assert DIVIDE in (settings.project / "calc.py").read_text()


async def test_a_whole_deploy_waits_for_the_recheck_that_holds_the_workspace(tmp_path):
    settings, session = await made_session(tmp_path)
    review = ReviewRun(session)
    seen: list = []
    review.subscribe(seen.append)
    ready = next(e for e in review.events if isinstance(e, DeployReady))
    (path, _kind, key, _flagged, _hunks), = ready.review
    assert review.send(Deploy((), hunks=((path, key, "all"),))).ok  # the recheck starts: the subset in the workspace
    whole = review.send(Deploy(()))
    assert not whole.ok and "still running" in whole.note, "never the workspace as the recheck has it"
    await asyncio.gather(*review.gate.tasks)
    assert any(isinstance(e, RecheckFinished) and e.passed for e in seen)
    assert any(isinstance(e, Deployed) for e in seen)
    assert DIVIDE in (settings.project / "calc.py").read_text()
    await review.close()


async def test_a_per_hunk_deploy_is_refused_at_once_when_the_folder_changed(tmp_path):
    settings, session = await made_session(tmp_path)
    review = ReviewRun(session)
    seen: list = []
    review.subscribe(seen.append)
    ready = next(e for e in review.events if isinstance(e, DeployReady))
    (path, _kind, key, _flagged, _hunks), = ready.review
    (settings.project / "calc.py").write_text("# the person's own edit\n")
    reply = review.send(Deploy((), hunks=((path, key, "all"),)))
    assert not reply.ok and "changed" in reply.note
    assert [type(e) for e in seen] == [DeployRefused], "refused before any recheck"
    assert not review.gate.tasks
    assert (settings.project / "calc.py").read_text() == "# the person's own edit\n"
    await review.close()


async def test_a_bwrap_session_is_rechecked_in_bwrap(tmp_path, monkeypatch):
    require_backend("bwrap")
    settings = example_settings(tmp_path, sandbox="bwrap", permissions={"allow": ["edit_file", "write_file"]})
    session = await headless_session(settings)
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")  # no engine: only the session's own backend works
    review = ReviewRun(session)
    assert review.settings.sandbox == "bwrap (for a recheck)"
    seen: list = []
    review.subscribe(seen.append)
    ready = next(e for e in review.events if isinstance(e, DeployReady))
    (path, _kind, key, _flagged, _hunks), = ready.review
    assert review.send(Deploy((), hunks=((path, key, "all"),))).ok
    await asyncio.gather(*review.gate.tasks)
    assert [e.passed for e in seen if isinstance(e, RecheckFinished)] == [True]
    assert any(isinstance(e, Deployed) for e in seen)
    await review.close()
