"""A real terminal for end-to-end tests: a private tmux server running this checkout's own `tui-agent`."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path

from textual.constants import ESCAPE_DELAY

REPO = Path(__file__).resolve().parents[2]


def app_command(*args: str) -> str:
    """Shell words starting this checkout's tui-agent (never the one on PATH), sized by the tmux window
    (pytest's COLUMNS/LINES would override it)."""
    return "env -u COLUMNS -u LINES " + shlex.join([sys.executable, "-m", "tui_agent.cli.main", *args])


def wait_file(path: Path, timeout: float = 60.0) -> str:
    """The stripped contents of `path` once it exists ("" if it never does)."""
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return path.read_text().strip() if path.exists() else ""


class Tmux:
    """One session on a tmux server of its own, started in the repository: it inherits this process's
    environment (PYTHONPATH, DOCKER_HOST...) instead of whatever server another test or person started."""

    def __init__(self, command: str, size=(160, 48)) -> None:
        self.server = f"tui-e2e-{uuid.uuid4().hex[:8]}"
        self._tmux("new-session", "-d", "-s", "main", "-x", str(size[0]), "-y", str(size[1]), "-c", str(REPO),
                   command, check=True)

    def _tmux(self, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        return subprocess.run(["tmux", "-L", self.server, *args], capture_output=True, text=True, check=check)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "main").stdout

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "main", *keys, check=True)

    def wait_for(self, *texts: str, timeout: float = 90.0) -> str:
        """The first of `texts` to appear on the screen."""
        screen = self.wait_until(lambda screen: any(text in screen for text in texts), timeout, f"any of {texts}")
        return next(text for text in texts if text in screen)

    def wait_until(self, test, timeout: float = 90.0, what: str = "") -> str:
        """The screen, once `test(screen)` holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if test(screen):
                return screen
            time.sleep(0.05)
        raise AssertionError(f"never on the screen: {what or test}\n{self.screen()}")

    def alive(self) -> bool:
        return self._tmux("has-session", "-t", "main").returncode == 0

    def kill(self) -> None:
        self._tmux("kill-server")

    def quit_then_kill(self, code_file: Path, timeout: float = 60.0) -> None:
        """Stop the run (x) and quit the app (ctrl+q: once the run is over, its sandbox and workspace are closed),
        wait for its exit code, then kill tmux: a failed assertion must not leave a run going on in the background
        with its workspace mounted."""
        if self.alive() and not code_file.exists():
            self.keys("Escape")  # closes a modal screen, if one is open
            # ESC and a key within the terminal's escape delay arrive as alt+key (alt+x stops nothing): a terminal
            # protocol rule, no event says the ESC was taken alone, so this one wait is for time
            time.sleep(3 * ESCAPE_DELAY)
            self.keys("x")
            self.keys("C-q")
            wait_file(code_file, timeout)
        self.kill()
