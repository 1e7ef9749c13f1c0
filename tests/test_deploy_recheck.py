"""The per-hunk deploy of a live run: the check re-runs in the real sandbox on exactly the accepted subset before
anything is written; a failed recheck writes nothing until the person deploys anyway; feedback on rejected hunks
starts another iteration; undo through the run."""

from __future__ import annotations

import asyncio
import json

from tui_agent import config
from tui_agent.agent.gate import PERSON
from tui_agent.commands import Deploy, Feedback, Undo
from tui_agent.events import (
    Deployed, DeployReady, DeployRefused, FeedbackGiven, Finished, IterationStarted, ModelRequested, RecheckFinished,
    RecheckStarted, Undone,
)
from tui_agent.runner import prepare

from loop_fixtures import EXAMPLES, copy_example, script, tree, until

CHECK = "python3 -m unittest -q"


async def _met(tmp_path, extra=()):
    project = copy_example("inventory", tmp_path / "proj")
    turns = json.loads((EXAMPLES / "inventory" / "model.json").read_text())["turns"] + list(extra)
    settings = config.load(project, model=script(tmp_path, turns), check=CHECK, session_root=tmp_path / "sessions")
    run = await prepare(settings, who=PERSON)
    seen: list = []
    run.subscribe(seen.append)
    finished = await asyncio.wait_for(run.execute(), 600)
    assert finished.outcome == "met"
    ready = [e for e in seen if isinstance(e, DeployReady)][-1]
    return project, run, seen, {r[0]: r for r in ready.review}


def _all(review, *paths):
    return tuple((p, review[p][2], "all") for p in paths)


async def test_recheck_of_the_subset_then_the_approved_bytes_land(tmp_path):
    project, run, seen, review = await _met(tmp_path)
    try:
        assert set(review) == {"stock.json", "inventory.py"}
        assert run.send(Deploy(hunks=_all(review, "stock.json", "inventory.py"))).ok
        await until(lambda: any(isinstance(e, (Deployed, DeployRefused)) for e in seen), what="the deploy")
        started = [e for e in seen if isinstance(e, RecheckStarted)]
        assert started and set(started[0].files) == {"stock.json", "inventory.py"}
        assert [e.passed for e in seen if isinstance(e, RecheckFinished)] == [True]
        assert set([e for e in seen if isinstance(e, Deployed)][0].files) == {"stock.json", "inventory.py"}
        assert "<= threshold" in (project / "inventory.py").read_text()
        assert run.send(Undo()).ok
        assert "< threshold" in (project / "inventory.py").read_text()
        assert [e.of for e in seen if isinstance(e, Undone)] == ["deploy"]
    finally:
        await run.close()


async def test_a_failed_recheck_writes_nothing_until_deploy_anyway(tmp_path):
    project, run, seen, review = await _met(tmp_path)
    try:
        before = tree(project)
        assert run.send(Deploy(hunks=_all(review, "stock.json"))).ok
        await until(lambda: any(isinstance(e, (Deployed, DeployRefused)) for e in seen), what="the recheck")
        refused = [e for e in seen if isinstance(e, DeployRefused)]
        assert refused and refused[0].recheck_failed
        finished = [e for e in seen if isinstance(e, RecheckFinished)][0]
        assert not finished.passed and "test_low_stock_includes_threshold" in finished.output
        assert tree(project) == before
        assert "<= threshold" in (run.workspace.path / "inventory.py").read_text(), "the workspace is put back"
        assert run.send(Deploy(hunks=_all(review, "stock.json"), recheck=False)).ok
        await until(lambda: any(isinstance(e, Deployed) for e in seen), what="deploy anyway")
        assert '"qty": 3' in (project / "stock.json").read_text()
        assert "< threshold" in (project / "inventory.py").read_text()
    finally:
        await run.close()


async def test_feedback_on_a_rejected_hunk_starts_another_iteration(tmp_path):
    again = {"text": "Understood, I will keep the threshold as you want it."}
    project, run, seen, review = await _met(tmp_path, [again])
    try:
        hunk = review["inventory.py"][4][0][0]
        assert run.send(Feedback((("inventory.py", hunk, "the threshold is exclusive by contract"),))).ok
        await until(lambda: sum(isinstance(e, Finished) for e in seen) == 2, what="the second finish")
        note = [e for e in seen if isinstance(e, FeedbackGiven)][0]
        assert "the person rejected this hunk: the threshold is exclusive by contract" in note.text
        assert [e.iteration for e in seen if isinstance(e, IterationStarted)][-1] == 3
        asked = [e for e in seen if isinstance(e, ModelRequested)][-1]
        assert "the threshold is exclusive by contract" in json.dumps(asked.request)
    finally:
        await run.close()


async def test_a_whole_deploy_is_refused_while_the_recheck_holds_the_workspace(tmp_path):
    project, run, seen, review = await _met(tmp_path)
    try:
        assert run.send(Deploy(hunks=_all(review, "stock.json", "inventory.py"))).ok  # the recheck is spawned
        whole = run.send(Deploy())  # before it ran: the workspace is about to hold the subset, never deploy that
        assert not whole.ok and "still running" in whole.note
        await asyncio.gather(*run.gate.tasks)
        assert [e.passed for e in seen if isinstance(e, RecheckFinished)] == [True]
        assert "<= threshold" in (project / "inventory.py").read_text()
    finally:
        await run.close()
