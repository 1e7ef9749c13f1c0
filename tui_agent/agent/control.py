"""Pause / resume / step / stop, and the human decisions (tool permissions) as Futures the UI resolves."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Callable

from tui_agent.agent.breakpoints import Breakpoints
from tui_agent.events import Event, Paused, Resumed


class StopRequested(Exception):
    """Raised at a checkpoint once stop() was called; the loop ends with outcome "stopped"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Decision:
    action: str  # "allow" | "deny" | "always" (allow, and write a rule so it is never asked again)
    arguments: dict | None = None  # edited arguments, when the person changed them before allowing
    note: str = ""


@dataclass
class PermissionRequest:
    call_id: str
    name: str
    arguments: dict
    iteration: int
    future: asyncio.Future = field(repr=False, default=None)  # type: ignore[assignment]


class Controller:
    """The loop awaits checkpoints and decisions here; the TUI (or a test) calls the other methods."""

    def __init__(
        self, *, start_paused: bool = False, interactive: bool = True, breakpoints: Breakpoints | None = None
    ) -> None:
        self.interactive = interactive  # False in headless mode: nobody can be asked
        self.breakpoints = breakpoints or Breakpoints()
        self._running = asyncio.Event()
        if not start_paused:
            self._running.set()
        self._start_paused = start_paused
        self._stepping = False
        self._stop_reason: str | None = None
        self._stopped = asyncio.Event()
        self._pause_reason: str | None = None
        self.pending: dict[str, PermissionRequest] = {}
        self._ahead: dict[str, Decision] = {}  # answered while paused at a breakpoint, before it was asked
        self._emit: Callable[[Event], None] = lambda event: None

    def bind(self, emit: Callable[[Event], None]) -> None:
        self._emit = emit

    # --- commands (from the person) ------------------------------------------------------

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stop_reason(self) -> str | None:
        return self._stop_reason

    def pause(self) -> None:
        self._stepping = False
        self._running.clear()

    def resume(self) -> None:
        if self.paused:
            self._stepping = False
            self._running.set()
            self._emit(Resumed(stepping=False))

    def step(self) -> None:
        """Run one more iteration, then pause again."""
        self._stepping = True
        if self.paused:
            self._running.set()
            self._emit(Resumed(stepping=True))

    def stop(self, reason: str = "stopped by the person") -> None:
        if self._stop_reason is None:
            self._stop_reason = reason
        self._stopped.set()
        self._running.set()
        for request in list(self.pending.values()):
            if not request.future.done():
                request.future.set_result(Decision("deny", note=reason))

    def decide(self, call_id: str, action: str, arguments: dict | None = None) -> bool:
        """Answer a pending permission request; False when there is none with that id."""
        request = self.pending.get(call_id)
        if request is None or request.future.done():
            return False
        request.future.set_result(Decision(action, arguments))
        return True

    def decide_ahead(self, call_id: str, action: str, arguments: dict | None = None) -> None:
        """Answer a call before it is asked (the loop is paused at a breakpoint before it): ask() returns this."""
        self._ahead[call_id] = Decision(action, arguments)

    def decided_ahead(self, call_id: str) -> bool:
        return call_id in self._ahead

    # --- awaited by the loop -------------------------------------------------------------

    async def checkpoint(self, iteration: int = 0, reason: str = "person") -> None:
        """Wait here while paused; raise StopRequested once stop() was called."""
        if self._stop_reason is not None:
            raise StopRequested(self._stop_reason)
        if self.paused:
            reason, self._pause_reason = self._pause_reason or reason, None
            self._emit(Paused(reason=reason, iteration=iteration))
            await self._running.wait()
        if self._stop_reason is not None:
            raise StopRequested(self._stop_reason)

    async def iteration_boundary(self, iteration: int) -> None:
        """Called before each iteration: a step ends here, and --step starts paused here."""
        if self._stepping or self._start_paused:
            self._start_paused = False
            self._stepping = False
            self._running.clear()
            await self.checkpoint(iteration, reason="step")
        else:
            await self.checkpoint(iteration)

    def pause_for(self, reason: str) -> None:
        """The loop itself pauses (breakpoint, no progress); the next checkpoint waits for the person.

        Headless, nobody could resume: breakpoints are ignored there."""
        if not self.interactive:
            return
        self._stepping = False
        self._running.clear()
        self._pause_reason = reason

    async def stop_at(self, reason: str | None, iteration: int) -> None:
        """A breakpoint: when `reason` is set (and someone can resume), pause here until the person goes on."""
        if reason:
            self.pause_for(reason)
        await self.checkpoint(iteration)

    async def ask(self, call_id: str, name: str, arguments: dict, iteration: int) -> Decision:
        """A permission request: a Future the UI resolves with decide(); deny if nobody can answer."""
        if not self.interactive:
            return Decision("deny", note="headless mode never asks")
        if (early := self._ahead.pop(call_id, None)) is not None:
            return early
        future = asyncio.get_running_loop().create_future()
        request = PermissionRequest(call_id, name, arguments, iteration, future)
        self.pending[call_id] = request
        try:
            stop = asyncio.ensure_future(self._stopped.wait())
            await asyncio.wait({future, stop}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            if not future.done():
                future.set_result(Decision("deny", note=self._stop_reason or "stopped"))
            return future.result()
        finally:
            self.pending.pop(call_id, None)

    async def until_stopped(self) -> str:
        await self._stopped.wait()
        return self._stop_reason or "stopped"
