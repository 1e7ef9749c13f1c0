"""Replay a recorded session: its events again, paced, with the same pause/step controls; nothing runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tui_agent.config import Settings
from tui_agent.agent.control import Controller, StopRequested
from tui_agent.events import (
    DeployRefused, Error, Event, Finished, IterationStarted, ModelResponded, OutputChunk, SessionStarted,
)
from tui_agent.sessions.recorder import effective, read_events

# seconds to wait before showing an event of this kind, at speed 1
PACE = {ModelResponded: 0.4, IterationStarted: 0.3, OutputChunk: 0.005}
DEFAULT_PACE = 0.05


class ReplayRun:
    """Looks like a Run to its consumers (subscribe, execute, control, deploy, close); calls no model."""

    def __init__(self, session_dir: Path, *, interactive: bool = True, speed: float = 1.0, step: bool = False):
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
        self.control = Controller(start_paused=step, interactive=interactive)
        self.speed = speed
        self.sinks: list = []
        self.mcp = None
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
                    await self.control.iteration_boundary(event.iteration)
                elif started:
                    await self.control.checkpoint()
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

    def deploy(self) -> Event:
        event = DeployRefused("this is a replay: nothing is deployed (resume or fork the session to act on it)")
        self._emit(event)
        return event

    async def close(self) -> None:
        return None
