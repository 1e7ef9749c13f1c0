"""Output plumbing for the bwrap sandbox: capped, sanitised streaming and bwrap's JSON status pipe."""

from __future__ import annotations

import asyncio
import codecs
import json

from tui_agent.sandbox.base import OutputCallback
from tui_agent.sandbox.sanitize import sanitize

STREAMS = {1: "stdout", 2: "stderr"}


class OutputProtocol(asyncio.SubprocessProtocol):
    """Streams stdout/stderr to on_output, holding it back until bwrap says the sandbox started.

    Before that point only the launcher or bwrap itself can write (an infrastructure error), so what
    was held is kept as `held_text` for the error line instead of being shown as the check's output.
    """

    def __init__(self, on_output: OutputCallback, cap: int) -> None:
        loop = asyncio.get_running_loop()
        self.on_output, self.cap = on_output, cap
        self.decoders = {fd: codecs.getincrementaldecoder("utf-8")("replace") for fd in STREAMS}
        self.total = 0
        self.truncated = False
        self.held: list[tuple[int, bytes]] | None = []
        self.must_kill = asyncio.Event()  # output cap reached, or on_output raised
        self.closed = loop.create_future()  # process exited and both pipes closed
        self.callback_error: BaseException | None = None

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        if self.truncated or fd not in STREAMS:
            return
        room = self.cap - self.total
        if len(data) > room:
            data = data[:room]
            self.truncated = True
            self.must_kill.set()
        self.total += len(data)
        if self.held is not None:
            self.held.append((fd, data))
        elif data:
            self._emit(fd, data)

    def release(self) -> None:
        """The sandbox is up: what was held is the checked code's output after all."""
        held, self.held = self.held or [], None
        for fd, data in held:
            self._emit(fd, data)

    def held_text(self) -> str:
        return b"".join(data for _, data in self.held or []).decode("utf-8", "replace")

    def _emit(self, fd: int, data: bytes, final: bool = False) -> None:
        text = self.decoders[fd].decode(data, final)
        if not text or self.callback_error is not None:
            return
        try:
            self.on_output(STREAMS[fd], sanitize(text))
        except BaseException as exc:  # the caller's bug: stop the run, re-raise after cleanup
            self.callback_error = exc
            self.must_kill.set()

    def flush(self) -> None:
        if self.held is None:
            for fd in STREAMS:
                self._emit(fd, b"", final=True)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


class StatusProtocol(asyncio.Protocol):
    """Reads bwrap's --json-status-fd: {"child-pid": N} once the sandbox is up, {"exit-code": N} at the end."""

    def __init__(self, on_started) -> None:
        self.on_started = on_started
        self.buffer = b""
        self.child_pid: int | None = None
        self.exit_code: int | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if "child-pid" in doc and self.child_pid is None:
                self.child_pid = int(doc["child-pid"])
                self.on_started(self.child_pid)
            if "exit-code" in doc:
                self.exit_code = int(doc["exit-code"])

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
