"""The sandbox hosts of a batch and their free capacity: each task takes the live host with the most room."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

from tui_agent.sandbox.docker.engine import Engine


@dataclass
class Host:
    name: str
    engine: Engine | None  # None: this machine's own sandbox (whatever `sandbox` chooses)
    capacity: int
    running: int = 0
    done: int = 0
    failed: int = 0
    alive: bool = True
    reason: str = ""  # why it is down

    @property
    def free(self) -> int:
        return self.capacity - self.running if self.alive else 0


def capacity_of(engine: Engine | None) -> tuple[int, str]:
    """(sandboxes at once, "" or why the host is down): the configured capacity, else the engine's CPUs."""
    if engine is None:
        return os.cpu_count() or 1, ""
    try:
        client = engine.client(timeout=10)
    except Exception as exc:
        return engine.capacity or 1, f"{engine.label} does not answer ({str(exc).splitlines()[0][:160]})"
    try:
        return engine.capacity or int(client.info().get("NCPU") or 1), ""
    except Exception as exc:
        return engine.capacity or 1, f"{engine.label} failed a query ({str(exc).splitlines()[0][:160]})"
    finally:
        client.close()


class Hosts:
    """acquire() a host with room (waiting while all are full); release() it; mark_down() a dead one."""

    def __init__(self, hosts: list[Host]):
        self.hosts = hosts
        self._changed = asyncio.Condition()

    async def acquire(self) -> Host | None:
        """The live host with the most free room; None once no host is alive."""
        async with self._changed:
            while True:
                live = [h for h in self.hosts if h.alive]
                if not live:
                    return None
                host = max(live, key=lambda h: (h.free, -h.running, -self.hosts.index(h)))
                if host.free > 0:
                    host.running += 1
                    return host
                await self._changed.wait()

    async def release(self, host: Host, failed: bool) -> None:
        async with self._changed:
            host.running -= 1
            host.failed += failed
            host.done += not failed
            self._changed.notify_all()

    async def mark_down(self, host: Host, reason: str) -> None:
        async with self._changed:
            if host.alive:
                host.alive, host.reason = False, reason
            self._changed.notify_all()

    async def still_up(self, host: Host) -> bool:
        """Ask the host's engine again (after a failure that may have been its death)."""
        if host.engine is None or not host.alive:
            return host.alive
        if await asyncio.to_thread(host.engine.answers, 5):
            return True
        await self.mark_down(host, f"{host.engine.label} stopped answering")
        return False
