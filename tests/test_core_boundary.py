"""The core never loads textual: the import contracts (pyproject.toml, `lint-imports`) check every import
statically; this checks what a headless run really loads, deferred imports included."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit


def test_headless_run_path_loads_without_textual():
    code = (
        "import sys, tui_agent.cli.main, tui_agent.runner, tui_agent.agent.loop, tui_agent.cli.headless;"
        "print('textual' in sys.modules, 'rich' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"
