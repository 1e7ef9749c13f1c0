"""The Docker engine dying: mid-check in the sandbox (a clear error; runs work once it is back) and mid-run
(a clear error event, a whole session file, and `resume` continues once the engine is back).

These kill the dockerd serving DOCKER_HOST, so they are marked `engine_stop`, left out of the main run, and run
last by .ci/run against a private engine (scripts/private-engine.sh):
    DOCKER_HOST=$(scripts/private-engine.sh start /tmp/tae) python -m pytest -m engine_stop tests/test_engine_stop.py
"""

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest

from engine import engine_to_kill
from loop_fixtures import ROOT, cli, copy_example, events, of_type, script, tree
from sandbox_fixtures import BoxFactory, require_backend
from test_resume import FIX_AVERAGE, FIX_DIVIDE
from tui_agent.sessions.recorder import read_records

pytestmark = [pytest.mark.engine_stop, pytest.mark.docker, pytest.mark.slow]

SLOW = {"name": "write_file", "arguments": {"path": "slow", "content": "x"}}
CHECK = "if [ -f slow ]; then echo checking slowly; sleep 30; fi; python3 -m unittest"


async def test_engine_dies_in_the_middle_of_a_check(tmp_path):
    """Kill dockerd during `sleep`: a clear error, not an exception; after a restart, runs work again."""
    require_backend("docker")
    factory = BoxFactory("docker", tmp_path)
    try:
        box = await factory.make()
        await box.sandbox.ready()
        started = asyncio.Event()
        out_text = []

        def on_output(stream, text):
            out_text.append(text)
            started.set()

        with engine_to_kill() as pid:
            run = asyncio.ensure_future(box.sandbox.run("echo started; sleep 60", on_output, None))
            await asyncio.wait_for(started.wait(), 120)  # the check runs: its first output arrived
            os.kill(pid, signal.SIGKILL)
            result = await asyncio.wait_for(run, 120)
        assert "started" in "".join(out_text)
        assert result.exit_code is None and result.error, result
        assert "\n" not in result.error and "engine" in result.error.lower(), result.error
        after, out = await box.run("echo back", timeout_s=60)
        assert after.error is None and after.exit_code == 0 and out.text == "back\n", (after, out.text)
    finally:
        await factory.close()


def test_engine_stops_mid_run_then_resume(tmp_path):
    require_backend("docker")
    project = copy_example("calculator", tmp_path / "proj")
    before = tree(project)
    sessions = tmp_path / "sessions"
    model = script(tmp_path, [{"tool_calls": [FIX_DIVIDE]}, {"text": "1"},
                              {"tool_calls": [SLOW, FIX_AVERAGE]}, {"text": "2"}])
    args = ["run", str(project), "--check", CHECK, "--model", model, "--headless", "--sandbox", "docker",
            "--allow", "edit_file", "--allow", "write_file", "--sessions", str(sessions), "--timeout", "300"]
    with engine_to_kill() as pid:
        proc = subprocess.Popen([sys.executable, "-m", "tui_agent.cli.main", *args], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 300
            record = None
            while time.monotonic() < deadline:
                found = list(sessions.glob("*/events.jsonl"))
                record = found[0] if found else None
                # the sandbox's output, not the command line recorded at the start
                if record and '"text": "checking slowly' in record.read_text():
                    break
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.05)
            else:
                raise AssertionError("the slow check never started")
            os.kill(pid, signal.SIGKILL)
            out, err = proc.communicate(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    assert proc.returncode == 1, err
    printed = events(out)
    errors = of_type(printed, "error")
    assert errors and "sandbox" in errors[0]["message"] and "\n" not in errors[0]["message"]
    assert of_type(printed, "finished")[0]["outcome"] == "error"
    session = record.parent
    assert read_records(session / "events.jsonl")[-1]["type"] == "finished", "the session file is whole"

    done = cli("resume", str(session), "--headless", "--timeout", "300", timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert of_type(events(done.stdout), "finished")[0]["outcome"] == "met"
    assert tree(project) == before
