"""The Docker engine stopping in the middle of a check: a clear error event, a whole session file, and
`resume` continues once the engine is back."""

import os
import signal
import subprocess
import sys
import time

import pytest
from test_resume import FIX_AVERAGE, FIX_DIVIDE
from test_sandbox_docker import _dockerd, _wait_engine

from tui_agent.sessions.recorder import read_records

from loop_fixtures import ROOT, cli, copy_example, events, of_type, script, tree

SLOW = {"name": "write_file", "arguments": {"path": "slow", "content": "x"}}
CHECK = "if [ -f slow ]; then echo checking slowly; sleep 4; fi; python3 -m unittest"


@pytest.mark.slow
def test_engine_stops_mid_check_then_resume(tmp_path):
    if not (os.environ.get("CI") or os.environ.get("TUI_AGENT_KILL_DOCKERD")):
        pytest.skip("kills the machine's dockerd: runs under CI=1 or TUI_AGENT_KILL_DOCKERD=1 only")
    found = _dockerd()
    if found is None or os.geteuid() != 0:
        pytest.skip("dockerd is not a local process we may restart")
    pid, argv = found
    project = copy_example("calculator", tmp_path / "proj")
    before = tree(project)
    sessions = tmp_path / "sessions"
    model = script(tmp_path, [{"tool_calls": [FIX_DIVIDE]}, {"text": "1"},
                              {"tool_calls": [SLOW, FIX_AVERAGE]}, {"text": "2"}])
    args = ["run", str(project), "--check", CHECK, "--model", model, "--headless", "--sandbox", "docker",
            "--allow", "edit_file", "--allow", "write_file", "--sessions", str(sessions)]
    proc = subprocess.Popen([sys.executable, "-m", "tui_agent.cli.main", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found_sessions = list(sessions.iterdir()) if sessions.exists() else []
            record = found_sessions[0] / "events.jsonl" if found_sessions else None
            # the sandbox's output, not the command line recorded at the start
            if record and record.exists() and '"text": "checking slowly' in record.read_text():
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the slow check never started")
        os.kill(pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        while _dockerd() and _dockerd()[0] == pid:
            time.sleep(0.05)
        with open("/tmp/dockerd.log", "ab") as log:
            subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        assert _wait_engine(60), "dockerd did not come back"

    assert proc.returncode == 1, err
    printed = events(out)
    errors = of_type(printed, "error")
    assert errors and "sandbox" in errors[0]["message"] and "\n" not in errors[0]["message"]
    assert of_type(printed, "finished")[0]["outcome"] == "error"
    session = found_sessions[0]
    records = read_records(session / "events.jsonl")
    assert records[-1]["type"] == "finished", "the session file is whole"

    done = cli("resume", str(session), "--headless", timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    assert of_type(events(done.stdout), "finished")[0]["outcome"] == "met"
    assert tree(project) == before
