"""Shared: a live run that other windows can attach to; the RunHandle the first window drives."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tui_agent.attach.server import AttachServer
from tui_agent.attach.wire import AttachError
from tui_agent.commands import Command, Deploy, Reply
from tui_agent.events import Event, Finished
from tui_agent.handle import RunHandle, Sink

if TYPE_CHECKING:
    from tui_agent.tools.mcp.manager import ServerStatus
    from tui_agent.tools.mcp.prompts import PromptEntry


class Shared:
    """The run, unchanged, plus its AttachServer: started with the run, closed with it. Only the RunHandle is
    offered; the run itself is `inner` (a test looking into it)."""

    def __init__(self, run: RunHandle) -> None:
        self.inner = run
        self.session_dir: Path = run.session_dir
        self.replay = run.replay
        self.server = AttachServer(run)
        self.unavailable = ""
        run.subscribe(self.server.receive)

    async def start(self) -> Shared:
        try:
            await self.server.start()
        except (OSError, AttachError) as exc:  # e.g. no private runtime folder: the run goes on alone
            self.unavailable = f"other windows cannot attach: {getattr(exc, 'strerror', None) or exc}"
        return self

    def subscribe(self, sink: Sink) -> None:
        self.inner.subscribe(sink)

    async def execute(self) -> Finished:
        return await self.inner.execute()

    def send(self, command: Command) -> Reply:
        return self.inner.send(command)

    def history(self) -> list[Event]:
        return self.inner.history()

    def rules(self) -> dict[str, list[str]]:
        return self.inner.rules()

    def breakpoints(self) -> list[str]:
        return self.inner.breakpoints()

    def servers(self) -> tuple[ServerStatus, ...]:
        return self.inner.servers()

    async def prompts(self) -> list[PromptEntry]:
        return await self.inner.prompts()

    async def prompt_text(self, server: str, name: str, arguments: dict[str, str] | None = None) -> str:
        return await self.inner.prompt_text(server, name, arguments)

    def changes(self) -> str:
        return self.inner.changes()

    def deploy_preview(self, deploy: Deploy) -> list[tuple[str, bytes | None]] | None:
        return self.inner.deploy_preview(deploy)

    def attach_unavailable(self) -> str:
        return self.unavailable

    async def alone(self) -> None:
        await self.server.alone()

    async def close(self) -> None:
        await self.server.close()
        await self.inner.close()


async def shared(run: RunHandle) -> RunHandle:
    """The run, attachable from other windows (`tui-agent attach`); a replay is left as it is."""
    if run.replay:
        return run
    return await Shared(run).start()
