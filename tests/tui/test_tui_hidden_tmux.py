"""A real terminal: OSC 0 (window title) and OSC 52 (clipboard) sequences ended by `ESC \\` in model text, a plan
title, file contents and a command leave tmux's pane title and paste buffers as they were, and the approval
prompt shows the hidden part of the command."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time

import pytest

from tmux import REPO, Tmux, app_command, wait_file

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

TITLE = "\x1b]0;PWNED-TITLE\x1b\\"
CLIP = "\x1b]52;c;SElEREVOX1BXTg==\x1b\\"  # base64 of HIDDEN_PWN
COMMAND = f"echo tests-ok{TITLE[:-2]}; touch HIDDEN_PWN {CLIP[:-2]}\x1b\\"  # the terminal would show `echo tests-ok`


def script() -> dict:
    return {"turns": [
        {"text": f"Reading the project.{TITLE}{CLIP}",
         "tool_calls": [{"name": "update_plan", "arguments": {"steps": [
             {"title": f"make notes importable{TITLE}{CLIP}", "status": "in_progress"}]}},
             {"name": "run_command", "arguments": {"command": COMMAND}}]},
        {"tool_calls": [{"name": "write_file",
                         "arguments": {"path": "notes.py", "content": f"# {CLIP}{TITLE}\nx = 1\n"}}]},
        {"text": "done"},
    ]}


def ask_mode() -> list[str]:
    """`--mode ask` once permission modes exist (in `auto` nothing here would ask); today's default asks."""
    shown = subprocess.run([sys.executable, "-m", "tui_agent.cli.main", "run", "--help"], capture_output=True,
                           text=True, cwd=REPO).stdout
    return ["--mode", "ask"] if re.search(r"--mode\b", shown) else []  # not --model


def terminal_state(tmux: Tmux) -> tuple[str, str]:
    title = tmux._tmux("display", "-p", "-t", "main", "#{pane_title}").stdout.strip()
    return title, tmux._tmux("list-buffers").stdout.strip()


def test_hidden_sequences_never_reach_the_terminal(tmp_path):
    project, sessions, code_file, go = tmp_path / "proj", tmp_path / "sessions", tmp_path / "code", tmp_path / "go"
    project.mkdir()
    (project / "app.py").write_text("VALUE = 1\n")
    model = tmp_path / "model.json"
    model.write_text(json.dumps(script()))
    command = app_command("run", str(project), "--goal", "make notes importable", "--check",
                          "python3 -c 'import notes'", "--model", f"scripted:{model}", "--sessions", str(sessions),
                          "--sandbox", "bwrap", *ask_mode())
    tmux = Tmux(f"while [ ! -e {go} ]; do sleep 0.05; done; {command}; echo $? > {code_file}; sleep 30")
    try:
        tmux._tmux("set", "-g", "set-clipboard", "on", check=True)  # an OSC 52 would make a paste buffer
        before = terminal_state(tmux)
        go.touch()
        screen = tmux.wait_until(lambda s: "WAITING FOR APPROVAL" in s and "HIDDEN_PWN" in s, what="run_command asks")
        assert "touch HIDDEN_PWN" in screen and "\\x1b]0;PWNED-TITLE" in screen, screen
        tmux.keys("n")
        tmux.wait_until(lambda s: "WAITING FOR APPROVAL" in s and "notes.py" in s, what="write_file asks")
        tmux.keys("y")
        tmux.wait_for("READY TO DEPLOY")
        tmux.keys("d")
        screen = tmux.wait_until(lambda s: "Deploy into" in s and "\\x1b]52;c;" in s, what="the deploy diff")
        assert terminal_state(tmux) == before, "the pane title and paste buffers are unchanged"
        tmux.keys("Escape")
        tmux.wait_until(lambda s: "Deploy into" not in s, what="the deploy screen closed")
        tmux.keys("C-q")
        assert wait_file(code_file) in ("0", "1")
        assert not (project / "HIDDEN_PWN").exists()
        # the control: the same sequences printed raw do change both (the test can see an attack)
        raw = f"{TITLE}{CLIP}".replace("\\", "\\\\").replace("\x1b", "\\033")
        tmux._tmux("respawn-pane", "-k", "-t", "main", f"printf '{raw}'; sleep 30")
        deadline = time.monotonic() + 10
        changed = lambda: all(a != b for a, b in zip(terminal_state(tmux), before, strict=True))  # noqa: E731
        while not changed() and time.monotonic() < deadline:
            time.sleep(0.05)
        title, buffers = terminal_state(tmux)
        assert title == "PWNED-TITLE" and "HIDDEN_PWN" in buffers
    finally:
        if tmux.alive() and not code_file.exists():
            tmux.quit_then_kill(code_file)
        tmux.kill()
