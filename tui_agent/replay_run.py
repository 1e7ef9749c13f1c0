"""ReplayRun: a recorded session as a RunHandle: its events again, paced, with pause/step/stop; nothing runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tui_agent.agent.control import Controller, StopRequested
from tui_agent.agent.gate import PERSON, WhoAnswers
from tui_agent.commands import Answer, Command, Deploy, Reply, RestartServers
from tui_agent.config import Settings
from tui_agent.events import (
    DeployRefused, Error, Event, Finished, IterationStarted, ModelResponded, OutputChunk, SessionStarted,
)
from tui_agent.sessions.recorder import effective, read_events

# seconds to wait before showing an event of this kind, at speed 1
PACE = {ModelResponded: 0.4, IterationStarted: 0.3, OutputChunk: 0.005}
DEFAULT_PACE = 0.05
NOT_DEPLOYED = "this is a replay: nothing is deployed (resume or fork the session to act on it)"


class ReplayRun:
    """A RunHandle that plays a session file again; calls no model, runs nothing, deploys nothing."""

    replay = True

    def __init__(self, session_dir: Path, *, who: WhoAnswers = PERSON, speed: float = 1.0, step: bool = False):
        self.session_dir = Path(session_dir)
        recorded = read_events(self.session_dir)
        self.events: list[Event] = effective(recorded)
        if recorded.damaged:  # shown where the damage is, after the last whole record
            self.events.append(Error(f"{recorded.damaged}; the replay stops there"))
        start = next((e for e in self.events if isinstance(e, SessionStarted)), None)
        self.settings = Settings(
            project=Path(start.project) if start else self.session_dir, goal=start.goal if start else "",
            check=start.check if start else "", model=f"replay of {self.session_dir.name}",
            sandbox="none (replay)", step=step,
        )
        self.control = Controller(who=who, start_paused=step)
        self.speed = speed
        self.sinks: list = []
        self.control.bind(self._emit)

    def subscribe(self, sink) -> None:
        self.sinks.append(sink)

    def _emit(self, event: Event) -> None:
        for sink in self.sinks:
            sink(event)

    async def execute(self) -> Finished:
        finished, started = None, False
        try:
            for event in self.events:
                if isinstance(event, IterationStarted):
                    started = True  # like the loop: the first pause (--step) is before iteration 1
                    await self.control.at("iteration", event.iteration)
                elif started:
                    await self.control.at("event")
                if self.speed > 0:
                    await asyncio.sleep(PACE.get(type(event), DEFAULT_PACE) / self.speed)
                self._emit(event)
                if isinstance(event, Finished):
                    finished = event
        except StopRequested as exc:
            finished = Finished("stopped", f"replay stopped: {exc.reason}", 0, 0.0, 0.0)
            self._emit(finished)
        if finished is None:  # a session cut short by a kill: say so
            finished = Finished("stopped", "the recorded session ends here (it was interrupted)", 0, 0.0, 0.0)
            self._emit(finished)
        return finished

    def send(self, command: Command) -> Reply:
        """Pause, resume, step, stop and breakpoints work on the playback; what would act is refused."""
        match command:
            case Deploy():
                self._emit(DeployRefused(NOT_DEPLOYED))
                return Reply(False, NOT_DEPLOYED)
            case Answer():
                return Reply(False, "this is a replay: its calls were answered when it was recorded")
            case RestartServers():
                return Reply(False, "this is a replay: no MCP server runs")
        return self.control.send(command)

    def history(self) -> list[Event]:
        return []

    def rules(self) -> dict[str, list[str]]:
        return {}

    def breakpoints(self) -> list[str]:
        return self.control.breakpoints.specs()

    def servers(self) -> tuple:
        return ()

    async def prompts(self) -> list:
        return []  # nothing runs in a replay: no MCP server to ask

    async def prompt_text(self, server: str, name: str, arguments: dict[str, str] | None = None) -> str:
        raise ValueError("this is a replay: no MCP server runs")

    def changes(self) -> str:
        return "(a replay has no workspace to compare: [ and ] show each recorded fix)"

    def deploy_preview(self, deploy: Deploy) -> list[tuple[str, bytes | None]] | None:
        return None  # no workspace: the confirmation lists the accepted hunks

    def attach_unavailable(self) -> str:
        return "a replay serves no other window"

    async def alone(self) -> None:
        return None

    async def close(self) -> None:
        return None
