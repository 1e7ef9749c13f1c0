"""Output plumbing for the bwrap sandbox: capped, sanitised streaming and bwrap's JSON status pipe."""

from __future__ import annotations

import asyncio
import codecs
import json

from tui_agent.sandbox.base import OutputCallback
from tui_agent.sanitize import sanitize

STREAMS = {1: "stdout", 2: "stderr"}


# The sandbox's first shell writes a NUL on stderr right before it execs the command (see bwrap_run.inner).
# Nothing the checked code writes can come before it, so what precedes it is bwrap's (or the launcher's) complaint.
STARTED = b"\0"


class OutputProtocol(asyncio.SubprocessProtocol):
    """Streams stdout/stderr to on_output (sanitised, capped at `cap` bytes) once the sandbox is up."""

    def __init__(self, on_output: OutputCallback | None, cap: int) -> None:
        loop = asyncio.get_running_loop()
        self.on_output, self.cap = on_output, cap
        self.decoders = {fd: codecs.getincrementaldecoder("utf-8")("replace") for fd in STREAMS}
        self.total = 0
        self.truncated = False
        self.started = False
        self.held: list[bytes] = []  # stdout that raced ahead of the marker on stderr
        self.noise = b""  # stderr before the marker: why the sandbox did not start
        self.must_kill = asyncio.Event()  # output cap reached, or on_output raised
        self.closed = loop.create_future()  # process exited and both pipes closed
        self.drained = loop.create_future()  # both pipes closed: every writer is gone (the exit may be reaped later)
        self._open = set(STREAMS)
        self.callback_error: BaseException | None = None

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        if fd not in STREAMS:
            return
        if not self.started:
            if fd == 1:
                self.held.append(data)
                return
            noise, marker, data = data.partition(STARTED)
            self.noise = (self.noise + noise)[-4096:]
            if not marker:
                return
            self.started = True
            for early in self.held:
                self._deliver(1, early)
            self.held = []
        self._deliver(fd, data)

    def _deliver(self, fd: int, data: bytes) -> None:
        if self.truncated or not data:
            return
        room = self.cap - self.total
        if len(data) > room:
            data = data[:room]
            self.truncated = True
            self.must_kill.set()
        self.total += len(data)
        self._emit(fd, data)

    def noise_line(self) -> str:
        lines = [line for line in self.noise.decode("utf-8", "replace").splitlines() if line.strip()]
        return sanitize(lines[-1], keep_colour=False) if lines else ""

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
        if self.started:
            for fd in STREAMS:
                self._emit(fd, b"", final=True)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        self._open.discard(fd)
        if not self._open and not self.drained.done():
            self.drained.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        for future in (self.drained, self.closed):
            if not future.done():
                future.set_result(None)


class StatusProtocol(asyncio.Protocol):
    """Reads bwrap's --json-status-fd: {"child-pid": N} (the namespace's init), {"exit-code": N} at the end."""

    def __init__(self, on_child) -> None:
        self.on_child = on_child
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
                self.on_child(self.child_pid)
            if "exit-code" in doc:
                self.exit_code = int(doc["exit-code"])

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
