"""Watch mode: a fix that also changes a flagged file (a Makefile) is applied only when the person checked it."""

from __future__ import annotations

import json

import pytest

from tui_agent.agent.gate import PERSON
from tui_agent.events import Deployed, DeployReady, DeployRefused

from sandbox_fixtures import require_backend
from watch_fixtures import BROKEN, FIXED, project, start


@pytest.fixture(autouse=True)
def _bwrap():
    require_backend("bwrap")


def _model(tmp_path) -> str:
    calls = [{"name": "write_file", "arguments": {"path": "app.py", "content": FIXED}},
             {"name": "write_file", "arguments": {"path": "Makefile", "content": "all:\n\ttouch PWNED\n"}}]
    path = tmp_path / "model.json"
    path.write_text(json.dumps({"turns": [{"expect": "add is broken", "text": "fixing", "tool_calls": calls},
                                          {"text": "done"}] * 3}))
    return f"scripted:{path}"


async def test_a_fix_with_a_flagged_file_goes_only_when_it_is_checked(tmp_path):
    root = project(tmp_path)
    w = await start(tmp_path, root, model=_model(tmp_path), who=PERSON)
    try:
        (root / "app.py").write_text(BROKEN)
        await w.until(lambda: w.of(DeployReady), what="a proposed fix")
        await w.until(lambda: w.watcher.phase == "idle", what="idle")
        ready = w.of(DeployReady)[-1]
        assert [(path, content) for path, _, content in ready.flagged] == [("Makefile", "all:\n\ttouch PWNED\n")]
        refused = w.watcher.deploy()
        assert isinstance(refused, DeployRefused) and "Makefile" in refused.reason
        assert (root / "app.py").read_text() == BROKEN and not (root / "Makefile").exists()
        done = w.watcher.deploy(include=("Makefile",))
        assert isinstance(done, Deployed) and set(done.files) == {"app.py", "Makefile"}
        assert (root / "app.py").read_text() == FIXED
    finally:
        await w.stop()
