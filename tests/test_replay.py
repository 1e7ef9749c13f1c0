"""Replay: a recorded session plays again without a model or a sandbox, with the same diffs and plan byte for
byte; the replay: model re-runs it live to the same fixes; replay obeys pause and step."""

import asyncio
import json

from loop_fixtures import EXAMPLES, cli, copy_example, events, of_type, until
from tui_agent.commands import Answer, Deploy, Resume, Step
from tui_agent.events import IterationStarted, Paused
from tui_agent.replay_run import ReplayRun
from tui_agent.sessions.recorder import read_records

MODEL = f"scripted:{EXAMPLES / 'calculator' / 'model.json'}"


def _record(tmp_path):
    project = copy_example("calculator", tmp_path / "proj")
    done = cli("run", str(project), "--check", "python3 -m unittest", "--model", MODEL, "--headless",
               "--allow", "edit_file", "--sessions", str(tmp_path / "s"))
    assert done.returncode == 0, done.stderr
    return next((tmp_path / "s").iterdir())


def _strip(records):
    return [{k: v for k, v in r.items() if k not in ("seq", "ts")} for r in records]


def test_replay_shows_the_recorded_session_again(tmp_path):
    session = _record(tmp_path)
    done = cli("replay", str(session), "--headless", "--speed", "0")
    assert done.returncode == 0, done.stderr
    replayed = events(done.stdout)
    recorded = _strip(read_records(session / "events.jsonl"))
    assert replayed == recorded
    for kind in ("fix_applied", "plan_updated"):
        assert json.dumps(of_type(replayed, kind)) == json.dumps(of_type(recorded, kind))


def test_the_replay_model_reproduces_the_same_fixes_live(tmp_path):
    session = _record(tmp_path)
    again = copy_example("calculator", tmp_path / "again")
    done = cli("run", str(again), "--check", "python3 -m unittest", "--model", f"replay:{session / 'events.jsonl'}",
               "--headless", "--allow", "edit_file", "--sessions", str(tmp_path / "s2"))
    assert done.returncode == 0, done.stderr
    recorded = _strip(read_records(session / "events.jsonl"))
    live = events(done.stdout)
    for kind in ("fix_applied", "plan_updated"):
        strip = [{k: v for k, v in r.items() if k != "snapshot"} for r in of_type(live, kind)]
        want = [{k: v for k, v in r.items() if k != "snapshot"} for r in of_type(recorded, kind)]
        assert strip == want, kind


async def test_replay_obeys_step(tmp_path):
    session = _record(tmp_path)
    replay = ReplayRun(session, speed=0, step=True)
    seen = []
    replay.subscribe(seen.append)
    task = asyncio.ensure_future(replay.execute())
    paused = lambda n: sum(isinstance(e, Paused) for e in seen) == n  # noqa: E731
    await until(lambda: paused(1), what="paused before iteration 1")
    assert not any(isinstance(e, IterationStarted) for e in seen)
    assert replay.send(Step()).ok
    await until(lambda: paused(2), what="paused again after one iteration")
    assert [e.iteration for e in seen if isinstance(e, IterationStarted)] == [1]
    replay.send(Resume())
    finished = await asyncio.wait_for(task, 10)
    assert finished.outcome == "met"
    reply = replay.send(Deploy())
    assert not reply.ok and seen[-1].type == "deploy_refused", "a replay never deploys"
    assert not replay.send(Answer("toolu_s001_0", "allow")).ok, "nor answers a recorded call"
