"""AttachServer: a live run's events out and commands in over a Unix socket only the person's user can open."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Any

from tui_agent.attach.servers import servers_fact, servers_line
from tui_agent.attach.wire import LIMIT, event_line, line, parse, same_user, socket_path
from tui_agent.commands import Command, Reply
from tui_agent.events import DeployReady, Deployed, Event, Finished, IterationFinished, ModeChanged
from tui_agent.handle import RunHandle

FACT_EVENTS = (IterationFinished, Deployed, DeployReady, Finished, ModeChanged)  # after these the facts are sent
SHOWN = ("project", "goal", "check", "model", "sandbox", "mode")
MAX_BACKLOG = 32 * 1024 * 1024  # a window this far behind is dropped (it can attach again), never the run slowed


def facts(run: RunHandle, *, changes: bool = True) -> dict[str, Any]:
    """What a window shows besides the events: rules, breakpoints, the changes so far (a diff of the workspace:
    read after an iteration, a deploy or the end, not after every key)."""
    said: dict[str, Any] = {"rules": run.rules(), "breakpoints": run.breakpoints(), "servers": servers_fact(run)}
    if changes:
        try:
            said["changes"] = run.changes()
        except Exception as exc:  # a workspace being closed
            said["changes"] = f"(the changes cannot be read now: {type(exc).__name__})"
    return said


class AttachServer:
    """Serves one run: each window gets the run's history, every event so far, then every new one; its commands
    go to the run as if typed in the first window. A window closing changes nothing for the run."""

    def __init__(self, run: RunHandle, path: Path | None = None) -> None:
        self.run = run
        self.path = path  # socket_path(session) unless given; found in start() (it may refuse: AttachError)
        self.history = [e.to_dict() for e in run.history()]
        self.events: list[bytes] = []  # every event line since the start, for a window that attaches late
        self.windows: set[asyncio.StreamWriter] = set()
        self.refused = 0
        self.quiet = asyncio.Event()  # set while no window is attached
        self.quiet.set()
        given = getattr(run, "settings", None)  # runner.Run has them; what the window's panels show
        self.settings = {k: str(getattr(given, k, "")) for k in SHOWN} if given is not None else {}
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self.path = self.path or socket_path(self.run.session_dir)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # a socket left by a killed run
        old = os.umask(0o177)  # the socket is created 0600: only the person's user may connect
        try:
            self._server = await asyncio.start_unix_server(self._window, path=str(self.path), limit=LIMIT)
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)

    def receive(self, event: Event) -> None:
        """The run's sink: to every window now, and kept for the ones that attach later."""
        if servers := servers_line(self.run, event):  # first: the window reads the state the event announces
            self._broadcast(servers)
        data = event_line(event)
        self.events.append(data)
        self._broadcast(data)
        if isinstance(event, FACT_EVENTS):
            self._broadcast(line("facts", facts(self.run)))

    def _broadcast(self, data: bytes) -> None:
        for writer in list(self.windows):
            if writer.transport.get_write_buffer_size() > MAX_BACKLOG:
                self._drop(writer)
            else:
                writer.write(data)

    def _drop(self, writer: asyncio.StreamWriter) -> None:
        self.windows.discard(writer)
        writer.close()
        if not self.windows:
            self.quiet.set()

    async def alone(self) -> None:
        """Return once no window is attached (at once when none is)."""
        await self.quiet.wait()

    async def _window(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not same_user(writer.get_extra_info("socket")):
            self.refused += 1
            writer.close()
            return
        hello = {"session_dir": str(self.run.session_dir), "replay": self.run.replay, "history": self.history,
                 "facts": facts(self.run), "settings": self.settings}
        writer.write(line("hello", hello))
        for data in self.events:
            writer.write(data)
        self.windows.add(writer)
        self.quiet.clear()
        try:
            while raw := await reader.readline():
                self._command(raw, writer)
        except (ValueError, ConnectionError):  # a line over the limit, a window gone
            pass
        finally:
            self._drop(writer)

    def _command(self, raw: bytes, writer: asyncio.StreamWriter) -> None:
        try:
            kind, payload = parse(raw)
            if kind != "command":
                raise ValueError(f"expected a command, got {kind!r}")
            reply = self.run.send(Command.from_dict(payload))
        except (ValueError, TypeError) as exc:
            reply = Reply(False, f"not a command: {exc}")
        writer.write(line("reply", reply.to_dict()))
        self._broadcast(line("facts", facts(self.run, changes=False)))  # an "always" answer, a breakpoint, a mode

    async def close(self) -> None:
        for writer in list(self.windows):
            self._drop(writer)
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
