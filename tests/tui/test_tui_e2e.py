"""End to end: the real `tui-agent run` in tmux, keys sent, the screen read, until the fix is deployed."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
import tomllib
import uuid
from pathlib import Path

import pytest

from conftest import REPO, tree

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
TUI_AGENT = [sys.executable, "-m", "tui_agent.cli.main"]  # this checkout's code (tmux starts in the repo root)


class Tmux:
    def __init__(self, command: str, size=(160, 48)) -> None:
        self.name = f"tui-e2e-{uuid.uuid4().hex[:8]}"
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", str(size[0]), "-y", str(size[1]),
                        "-c", str(REPO), command], check=True)

    def screen(self) -> str:
        done = subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True)
        return done.stdout

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def wait_for(self, *texts: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            for text in texts:
                if text in screen:
                    return text
            time.sleep(0.1)
        raise AssertionError(f"none of {texts} on the screen:\n{self.screen()}")

    def wait_until(self, holds, what: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not holds(self.screen()):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n{self.screen()}")
            time.sleep(0.1)

    def alive(self) -> bool:
        return subprocess.run(["tmux", "has-session", "-t", self.name], capture_output=True).returncode == 0

    def kill(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)

    def quit_then_kill(self, code_file: Path, timeout: float = 30.0) -> None:
        """Quit the app (ctrl+q closes its sandbox and workspace) and wait for its exit code, then kill tmux."""
        if self.alive() and not code_file.exists():
            self.keys("Escape")
            self.keys("C-q")
            deadline = time.monotonic() + timeout
            while not code_file.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
        self.kill()


def test_real_app_fixes_and_deploys_the_calculator(tmp_path):
    source = REPO / "examples" / "calculator"
    meta = tomllib.loads((source / "example.toml").read_text())
    project = tmp_path / "calculator"
    shutil.copytree(source, project, ignore=shutil.ignore_patterns("example.toml", "model.json"))
    before = tree(project)
    code_file = tmp_path / "exit-code"
    command = shlex.join([*TUI_AGENT, "run", str(project), "--goal", meta["goal"], "--check", meta["check"],
                          "--model", f"scripted:{source / meta['model']}", "--sessions", str(tmp_path / "sessions")])
    tmux = Tmux(f"{command}; echo $? > {code_file}; sleep 30")
    try:
        approvals = 0
        while tmux.wait_for("WAITING FOR APPROVAL", "READY TO DEPLOY") == "WAITING FOR APPROVAL":
            assert "edit_file calc.py" in tmux.screen()
            tmux.keys("y")
            approvals += 1
            tmux.wait_until(lambda screen: screen.count("edit_file calc.py  person") == approvals, "the approval")
            assert approvals <= 5
        assert approvals == 2
        assert tree(project) == before, "nothing reaches the folder before the deploy is approved"
        tmux.keys("d")
        tmux.wait_for("Deploy into")
        assert "the check passes" in tmux.screen()
        tmux.keys("y")
        tmux.wait_for("DEPLOYED")
        calc = (project / "calc.py").read_text()
        assert "return None" in calc and "+ 1" not in calc
        tmux.keys("C-q")
        deadline = time.monotonic() + 30
        while not code_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert code_file.read_text().strip() == "0"
    finally:
        tmux.quit_then_kill(code_file)  # a failed assertion must not leave the workspace mounted
