"""A real terminal: `tui-agent run` in a cloned folder asks about trust before anything of the project runs;
quit starts nothing, "without its config" runs with none of it, trust starts the server and is remembered."""

from __future__ import annotations

import json
import shlex
import shutil
import sys

import pytest
from tmux import REPO, Tmux, app_command, wait_file

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
SERVER = "import sys; open(sys.argv[1], 'w').write('started')"


def _cloned(tmp_path):
    project = tmp_path / "cloned"
    shutil.copytree(REPO / "examples" / "calculator", project,
                    ignore=shutil.ignore_patterns("example.toml", "model.json"))
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {
        "marker": {"command": sys.executable, "args": ["-c", SERVER, str(tmp_path / "started")]}}}))
    return project


def _start(tmp_path, project) -> tuple[Tmux, object]:
    code_file = tmp_path / "exit-code"
    model = tmp_path / "model.json"
    model.write_text(json.dumps({"turns": [{"text": "done"}]}))
    command = app_command("run", str(project), "--check", "python3 -m unittest", "--model", f"scripted:{model}",
                          "--sandbox", "bwrap", "--max-iterations", "1", "--sessions", str(tmp_path / "sessions"))
    env = f"XDG_DATA_HOME={shlex.quote(str(tmp_path / 'data'))} XDG_CONFIG_HOME={shlex.quote(str(tmp_path / 'c'))}"
    return Tmux(f"{env} {command}; echo $? > {code_file}; sleep 30"), code_file


@pytest.mark.parametrize("key,starts", [("q", False), ("u", False), ("t", True)])
def test_the_first_run_in_a_cloned_folder_asks_first(tmp_path, key, starts):
    project = _cloned(tmp_path)
    tmux, code_file = _start(tmp_path, project)
    try:
        screen = tmux.wait_until(lambda s: "Project trust" in s and "marker:" in s, what="the trust question")
        assert "Trust (t)" in screen and not (tmp_path / "started").exists()
        tmux.keys(key)
        if key == "q":
            assert wait_file(code_file) == "1"
        else:
            tmux.wait_for("iteration", "READY", "STOPPED", "DONE")
            if starts:
                assert wait_file(tmp_path / "started") == "started"
            tmux.quit_then_kill(code_file)
    finally:
        tmux.kill()
    assert (tmp_path / "started").exists() is starts
    store = tmp_path / "data/tui-agent/trust.json"
    assert store.exists() is starts
