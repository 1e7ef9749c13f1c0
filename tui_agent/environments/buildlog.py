"""The build's log: the full text on disk, its lines as EnvOutput batches and its named steps as EnvStep events."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Callable

from tui_agent.environments.script import MARK
from tui_agent.events import EnvOutput, EnvStep, Event
from tui_agent.sanitize import sanitize

ERROR = re.compile(r"^\s*(error\b|ERROR\b|\w+Error\b|E: )")  # the line of a build log that says why
FLUSH_S = 0.1  # live log lines are sent in batches at most this often


class Log:
    """The build's full log on disk; its lines as EnvOutput batches and its steps as EnvStep events."""

    def __init__(self, path: Path, emit: Callable[[Event], None]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(path, "w", encoding="utf-8", errors="replace")
        self.emit = emit
        self.step = "start"
        self.last = ""  # the line that says why it failed: the first error line, else the last line
        self.said_error = False
        self.python = ""  # "Python 3.11.2", as the sandbox's python3 -V said it
        self._partial = ""
        self._batch: list[str] = []
        self._sent = time.monotonic()
        self._loop = asyncio.get_running_loop()

    def text(self, chunk: str) -> None:
        lines = (self._partial + chunk).split("\n")
        self._partial = lines.pop()
        for line in lines:
            self.line(line)

    def line(self, line: str) -> None:
        line = sanitize(line.rstrip("\r"), keep_colour=False)
        self.file.write(line + "\n")
        if line.startswith(MARK):
            self.step_started(line[len(MARK):].strip()[:40])
            return
        if line.startswith("Python 3.") and self.step == "python":
            self.python = line.strip()
        if line.strip() and not line.startswith("[tui-agent]") and not self.said_error:
            self.last = line.strip()[:300]
            self.said_error = bool(ERROR.match(line))
        elif self.said_error and line.strip().startswith("cause:") and "cause:" not in self.last:
            self.last = f"{self.last} {line.strip()}"[:400]  # uv: "error: ..." then the first cause
        self._batch.append(line)
        if time.monotonic() - self._sent >= FLUSH_S or len(self._batch) >= 200:
            self.flush()

    def step_started(self, step: str) -> None:
        self.flush()
        self.step, self.last, self.said_error = step, "", False
        if step != "done":
            self.emit(EnvStep(step))

    def flush(self) -> None:
        if self._batch:
            self.emit(EnvOutput("\n".join(self._batch)))
            self._batch = []
        self._sent = time.monotonic()

    def threadsafe_line(self) -> Callable[[str], None]:
        return lambda line: self._loop.call_soon_threadsafe(self.line, line)

    def threadsafe_text(self) -> Callable[[str], None]:
        return lambda chunk: self._loop.call_soon_threadsafe(self.text, chunk)

    def close(self) -> None:
        if self._partial:
            self.line(self._partial)
            self._partial = ""
        self.flush()
        if not self.file.closed:
            self.file.close()
