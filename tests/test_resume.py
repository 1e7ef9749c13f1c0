"""A killed run resumes from its last whole iteration and finishes; the session file stays whole."""

import json
import os
import signal
import subprocess
import sys
import time

from tui_agent.sessions.recorder import read_records

from loop_fixtures import ROOT, cli, copy_example, events, of_type, script, tree

FIX_DIVIDE = {"name": "edit_file", "arguments": {
    "path": "calc.py", "old_string": "    return a / b\n",
    "new_string": "    if b == 0:\n        return None\n    return a / b\n"}}
FIX_AVERAGE = {"name": "edit_file", "arguments": {
    "path": "calc.py", "old_string": "    return sum(numbers) / len(numbers) + 1\n",
    "new_string": "    if not numbers:\n        return 0\n    return sum(numbers) / len(numbers)\n"}}
TURNS = [
    {"tool_calls": [FIX_DIVIDE]}, {"text": "divide fixed"},
    {"expect": "test_average", "tool_calls": [{"name": "run_command", "arguments": {"command": "sleep 4"}}]},
    {"tool_calls": [FIX_AVERAGE]}, {"text": "average fixed"},
]


def _wait_for(path, predicate, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and predicate(path.read_text()):
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting on {path}")


def test_resume_after_kill(tmp_path, backend):
    project = copy_example("calculator", tmp_path / "proj")
    before = tree(project)
    model = script(tmp_path, TURNS)
    sessions = tmp_path / "sessions"
    args = ["run", str(project), "--check", "python3 -m unittest", "--model", model, "--headless", "--sandbox",
            backend, "--allow", "edit_file", "--allow", "run_command", "--sessions", str(sessions)]
    proc = subprocess.Popen([sys.executable, "-m", "tui_agent.cli.main", *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not (sessions.exists() and any(sessions.iterdir())) and time.monotonic() < deadline:
            time.sleep(0.05)
        session = next(sessions.iterdir())
        _wait_for(session / "events.jsonl", lambda text: '"command": "sleep 4"' in text and
                  '"type": "tool_call_decided"' in text.split('"command": "sleep 4"')[-1])
        os.killpg(proc.pid, signal.SIGKILL)  # the whole process group, like a crash
        proc.wait(10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    killed = read_records(session / "events.jsonl")
    assert not any(r["type"] == "finished" for r in killed)
    assert [r["iteration"] for r in killed if r["type"] == "iteration_finished"] == [0, 1]

    done = cli("resume", str(session), "--headless", "--sandbox", backend)
    assert done.returncode == 0, done.stderr[-2000:]
    printed = events(done.stdout)
    assert printed[0]["type"] == "session_resumed" and printed[0]["iteration"] == 1
    assert of_type(printed, "finished")[0]["outcome"] == "met"
    fixes = of_type(printed, "fix_applied")
    assert [f["iteration"] for f in fixes] == [2] and "return sum(numbers) / len(numbers)\n" in fixes[0]["diff"]
    whole = read_records(session / "events.jsonl")
    assert whole[-1]["type"] == "finished" and len(whole) > len(killed)
    assert all(json.dumps(r) for r in whole)
    assert tree(project) == before
