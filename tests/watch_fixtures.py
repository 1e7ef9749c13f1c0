"""Helpers for watch-mode tests: a small project, a Watcher on a real sandbox, waiting on its events."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from tui_agent import config
from tui_agent.agent.gate import NOBODY, WhoAnswers
from tui_agent.events import Event
from tui_agent.runner import prepare
from tui_agent.watch.watcher import Watcher

BROKEN = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"
CHECK = "python3 check.py"


def project(tmp_path: Path, app: str = FIXED) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_text(app)
    (root / "check.py").write_text("import app\nassert app.add(2, 3) == 5, 'add is broken'\nprint('ok')\n")
    return root


def fix_model(tmp_path: Path, delay_s: float = 0.0, words: int = 1, content: str = FIXED) -> str:
    """A scripted model that writes `content` to app.py, then ends its turn (slow when delay_s is set)."""
    text = " ".join(["thinking"] * words)
    turns = [{"expect": "add is broken", "text": text,
              "tool_calls": [{"name": "write_file", "arguments": {"path": "app.py", "content": content}}]},
             {"text": "done"}] * 3
    path = tmp_path / "model.json"
    path.write_text(json.dumps({"delay_s": delay_s, "turns": turns}))
    return f"scripted:{path}"


class Watch:
    """A running Watcher and the events it emitted."""

    def __init__(self, watcher: Watcher, events: list[Event], task: asyncio.Task) -> None:
        self.watcher, self.events, self.task = watcher, events, task

    def of(self, kind: type, since: int = 0) -> list:
        return [e for e in self.events[since:] if isinstance(e, kind)]

    async def until(self, predicate, timeout: float = 20.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.task.done():
                self.task.result()
                raise AssertionError(f"the watcher ended while waiting for {what or predicate}")
            if time.monotonic() > deadline:
                kinds = [e.type for e in self.events[-15:]]
                raise AssertionError(f"timed out waiting for {what or predicate}; last events: {kinds}")
            await asyncio.sleep(0.02)

    async def quiet(self, seconds: float) -> list[Event]:
        """The events emitted during the next `seconds`."""
        start = len(self.events)
        await asyncio.sleep(seconds)
        return self.events[start:]

    async def stop(self) -> int:
        self.watcher.stop("test over")
        try:
            return await asyncio.wait_for(self.task, 30)
        finally:
            await self.watcher.run.close()


async def start(tmp_path: Path, root: Path, *, model: str | None = None, auto_fix: bool = True,
                who: WhoAnswers = NOBODY, sandbox: str = "bwrap", **flags) -> Watch:
    settings = config.load(root, check=CHECK, model=model or fix_model(tmp_path), sandbox=sandbox,
                           session_root=tmp_path / "sessions", permissions={"allow": ["write_file", "edit_file"]},
                           **flags)
    run = await prepare(settings, who=who)
    watcher = Watcher(run, auto_fix=auto_fix)
    events: list[Event] = []
    watcher.subscribe(events.append)
    task = asyncio.ensure_future(watcher.run_until_stopped())
    watch = Watch(watcher, events, task)
    await watch.until(lambda: watcher.phase == "idle", what="the first check")
    return watch
