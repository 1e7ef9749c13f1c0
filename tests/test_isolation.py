"""Tests never read or write the person's own per-user folders: every one tui-agent uses is the test run's."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui_agent import config, trust
from tui_agent.attach import wire
from tui_agent.tools.permissions.policy import AuditLog
from tui_agent.tools.mcp.oauth_store import FileTokenStorage
from tui_agent.workspace.deploy_journal import journal_dir

ROOT = Path(__file__).resolve().parent.parent


def _places() -> dict[str, Path]:
    return {"session_root": config.Settings().session_root, "user config": config.user_config_path(),
            "trust store": trust.store_path(),
            "audit log": AuditLog().path, "deploy journals": journal_dir(), "attach sockets": wire.runtime_dir(),
            "oauth tokens": FileTokenStorage("http://127.0.0.1:1/mcp").path}


@pytest.mark.unit
def test_every_per_user_folder_is_the_test_runs_own():
    home = Path(os.environ["TUI_AGENT_TEST_HOME"]).resolve()
    assert home != Path.home().resolve() and str(home).startswith(("/tmp/", os.path.realpath("/tmp") + "/"))
    for what, path in _places().items():
        assert Path(path).resolve().is_relative_to(home), f"{what} is {path}, outside the test's home {home}"


@pytest.mark.unit
def test_a_subprocess_of_a_test_inherits_them():
    """What a test's `tui-agent` subprocess reads (its defaults are taken at import) is the test run's too."""
    code = ("from tui_agent import config; from tui_agent.workspace.deploy_journal import journal_dir; "
            "print(config.Settings().session_root); print(journal_dir())")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, check=True).stdout.split()
    assert all(Path(p).is_relative_to(os.environ["TUI_AGENT_TEST_HOME"]) for p in out), out
