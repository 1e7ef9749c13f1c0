"""The real `tui-agent run`: one-line errors show hidden characters; headless, the JSON is ASCII, a 2 MB command
is answered at once and refused, the events on stdout stay small, and SIGTERM during a long call ends the run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from loop_fixtures import ROOT, cli, script

HOSTILE = "hi\x1b]0;PWNED\x1b\\\u202e\x9b"


def test_a_one_line_error_shows_hidden_characters(tmp_path):
    done = cli("run", str(tmp_path / f"missing{HOSTILE}\nsecond line"), "--check", "true", "--headless")
    assert done.returncode == 2 and done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert "\\x1b]0;PWNED\\x1b\\" in line and "\\u202e\\x9b\\nsecond line" in line, line
    assert not any(c in line for c in "\x1b\u202e\x9b")


def test_a_2_mb_command_then_sigterm_during_a_call(tmp_path, backend):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "app.py").write_text("VALUE = 0\n")
    model = script(tmp_path, [
        {"text": HOSTILE,
         "tool_calls": [{"name": "run_command", "arguments": {"command": "echo " + "a;" * 1_000_000}}]},
        {"tool_calls": [{"name": "run_command", "arguments": {"command": "sleep 120"}}]},
        {"text": "done"},
    ])
    process = subprocess.Popen(
        [sys.executable, "-m", "tui_agent.cli.main", "run", str(project), "--check", "python3 -c 'import nothing'",
         "--model", model, "--headless", "--sandbox", backend, "--allow", "run_command(*)",
         "--sessions", str(tmp_path / "s")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=os.environ.copy())
    assert process.stdout is not None
    seen: list[dict] = []
    try:
        for line in process.stdout:  # event by event: SIGTERM once the sleep is running in the sandbox
            assert line.isascii(), "headless JSON is ASCII-escaped: no C1 or bidi character reaches a terminal"
            seen.append(json.loads(line))
            if seen[-1]["type"] == "tool_call_decided" and seen[-1]["name"] == "run_command" and \
                    seen[-1]["decision"] == "allow":
                process.send_signal(signal.SIGTERM)
                break
        rest, err = process.communicate(timeout=60)
    finally:
        process.kill()
    seen += [json.loads(line) for line in rest.splitlines() if line.strip()]
    refused = next(e for e in seen if e["type"] == "tool_call_finished")
    assert refused["is_error"] and "refused" in refused["result"] and refused["duration_s"] < 1.0
    assert max(len(json.dumps(e)) for e in seen) < 50_000, "the 2 MB is echoed nowhere"
    assert process.returncode == 1, err
    assert seen[-1]["type"] == "finished" and "SIGTERM" in seen[-1]["reason"]
    assert any(e["type"] == "model_responded" and {"type": "text", "text": HOSTILE} in e["content"] for e in seen), \
        "exact once decoded"
