"""Bad input, in a real terminal: one line on stderr and exit code 2 before any screen is drawn (the terminal never
enters the alternate screen); the same recorder sees the session browser's screen, so it can tell."""

from __future__ import annotations

import shutil

import pytest

from tmux import REPO, Tmux, app_command, wait_file

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
ALTERNATE_SCREEN = b"\x1b[?1049h"
MODEL = f"scripted:{REPO / 'examples' / 'calculator' / 'model.json'}"


def test_bad_flags_say_one_line_exit_2_and_draw_nothing(tmp_path):
    project, log, codes, go, done = (tmp_path / n for n in ("proj", "pane.log", "codes", "go", "done"))
    project.mkdir()
    (project / ".mcp.json").write_text('{"mcpServers": {"a": {"command": "x"},}}')
    other = tmp_path / "other"
    other.mkdir()
    cases = [
        ("run", str(other), "--check", "true", "--model", MODEL, "--budget-usd", "-1"),
        ("run", str(other), "--check", "true", "--model", MODEL, "--pass-pattern", "("),
        ("run", str(other), "--check", "true", "--model", MODEL, "--deny", "run_command("),
        ("run", str(project), "--check", "true", "--model", MODEL),  # a malformed .mcp.json
        ("watch", str(other), "--check", "true", "--model", "gpt:4o"),
        ("resume", "no-such-session", "--sessions", str(tmp_path / "sessions")),
        ("demo", "--mode", "plan", "no-such-example"),
    ]
    commands = "; ".join(f"{app_command(*case)}; echo $? >> {codes}" for case in cases)
    tmux = Tmux(f"while [ ! -e {go} ]; do sleep 0.05; done; {commands}; touch {done}; sleep 60")
    try:
        tmux._tmux("pipe-pane", "-t", "main", f"cat >> {log}", check=True)  # every byte the programs write
        go.touch()
        wait_file(done)
        assert codes.read_text().split() == ["2"] * len(cases)
        screen = tmux._tmux("capture-pane", "-p", "-J", "-t", "main").stdout
        said = [line for line in screen.splitlines() if line.strip()]
        assert len(said) == len(cases) and all(line.startswith("tui-agent: error: ") for line in said), screen
        for needle in ("budget_usd", "--pass-pattern", "permissions.deny", ".mcp.json:1:", "unknown model spec",
                       "no session at 'no-such-session'", "no example 'no-such-example'"):
            assert sum(needle in line for line in said) == 1, (needle, screen)
        assert ALTERNATE_SCREEN not in log.read_bytes(), "no screen was drawn"
        tmux._tmux("respawn-pane", "-k", "-t", "main", f"env XDG_DATA_HOME={tmp_path} {app_command()}")
        tmux.wait_for("no sessions yet")  # the recorder does see a screen when one is drawn
        assert ALTERNATE_SCREEN in log.read_bytes()
        tmux.keys("q")
    finally:
        tmux.kill()
