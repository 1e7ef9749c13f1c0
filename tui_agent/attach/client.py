"""AttachedRun: a RunHandle on a run that lives in another process, reached through its attach socket."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from tui_agent.attach.wire import LIMIT, AttachError, command_line, parse, socket_path
from tui_agent.commands import Command, Deploy, Reply
from tui_agent.events import Event, Finished
from tui_agent.tools.mcp.status import ServerStatus, statuses

GONE = "the run's process went away (its window was closed or it was killed)"
SENT = Reply(True, "sent")


class AttachedRun:
    """Events from the run's socket, commands to it. close() leaves the run running: stopping is a command."""

    replay = False

    def __init__(self, session_dir: Path) -> None:
        self.session_dir = Path(session_dir)
        self.sinks: list[Any] = []
        self.early: list[Event] = []  # events that came before the first subscriber
        self.facts: dict[str, Any] = {"rules": {}, "breakpoints": [], "changes": ""}
        self.past: list[Event] = []
        self.settings: dict[str, str] = {}  # project, goal, check, model, sandbox, mode of the run
        self.replies: list[Reply] = []  # what the run said to this window's commands, in order
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._closing = False
        self._reading: asyncio.Future[None] | None = None
        self._finished: asyncio.Future[Finished] = asyncio.get_running_loop().create_future()

    async def connect(self) -> AttachedRun:
        path = socket_path(self.session_dir)
        try:
            self._reader, self._writer = await asyncio.open_unix_connection(str(path), limit=LIMIT)
            raw = await self._reader.readline()
        except OSError as exc:
            raise AttachError(f"no live run to attach to in {self.session_dir} ({exc.strerror or exc})") from exc
        if not raw:
            raise AttachError(f"the run in {self.session_dir} refused this window")
        kind, hello = parse(raw)
        if kind != "hello":
            raise AttachError(f"the attach socket in {self.session_dir} did not say hello")
        self.replay = bool(hello.get("replay"))
        self.past = [Event.from_dict(e) for e in hello.get("history", [])]
        self.facts = hello.get("facts", self.facts)
        self.settings = dict(hello.get("settings", {}))
        return self

    def subscribe(self, sink: Any) -> None:
        self.sinks.append(sink)
        for event in self.early:
            sink(event)
        self.early.clear()

    def _emit(self, event: Event) -> None:
        if not self.sinks:
            self.early.append(event)
        for sink in self.sinks:
            sink(event)

    async def execute(self) -> Finished:
        """Until the run finishes (its Finished), its process goes away, or this window closes. Events that come
        after the Finished (a deploy approved in another window) still reach the subscribers."""
        assert self._reader is not None, "connect() first"
        if self._reading is None:
            self._reading = asyncio.ensure_future(self._read(self._reader))
        return await self._finished

    async def _read(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(ConnectionError, ValueError, asyncio.IncompleteReadError):
            while raw := await reader.readline():
                kind, payload = parse(raw)
                if kind == "event":
                    event = Event.from_dict(payload)
                    self._emit(event)
                    if isinstance(event, Finished) and not self._finished.done():
                        self._finished.set_result(event)
                elif kind == "facts":
                    self.facts = {**self.facts, **payload}
                elif kind == "reply":
                    self.replies.append(Reply(bool(payload.get("ok")), str(payload.get("note", ""))))
        if not self._finished.done():
            gone = Finished("stopped", "this window was closed; the run goes on" if self._closing else GONE, 0, 0.0,
                            0.0)
            if not self._closing:
                self._emit(gone)
            self._finished.set_result(gone)

    def send(self, command: Command) -> Reply:
        """Sent to the run; what comes of it arrives as the run's events (Paused, Resumed, Deployed...)."""
        if self._writer is None or self._writer.is_closing():
            return Reply(False, GONE)
        self._writer.write(command_line(command))
        return SENT

    def history(self) -> list[Event]:
        return list(self.past)

    def rules(self) -> dict[str, list[str]]:
        return dict(self.facts.get("rules", {}))

    def breakpoints(self) -> list[str]:
        return list(self.facts.get("breakpoints", []))

    def servers(self) -> tuple[ServerStatus, ...]:
        """The run's MCP servers as its facts last said (plain data, checked field by field)."""
        return statuses(self.facts.get("servers"))

    async def prompts(self) -> list[Any]:
        return []  # the MCP servers' prompts stay in the run's own window

    async def prompt_text(self, server: str, name: str, arguments: dict[str, str] | None = None) -> str:
        raise ValueError("an attached window has no MCP prompts: use the run's own window")

    def changes(self) -> str:
        return str(self.facts.get("changes", ""))

    def deploy_preview(self, deploy: Deploy) -> list[tuple[str, bytes | None]] | None:
        return None  # the workspace is the run's process's: the confirmation lists the accepted hunks

    def attach_unavailable(self) -> str:
        return "this window is attached to a run in another process: only that one serves windows"

    async def alone(self) -> None:
        return None

    async def close(self) -> None:
        """Leave: the run goes on. (To stop it, send Stop first.)"""
        self._closing = True
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()
        if self._reading is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reading, 5)
