"""The folder's file-system changes in batches, through watchfiles' public watch() (native, or polling when asked)."""

from __future__ import annotations

import asyncio
import os
import platform
import threading
from pathlib import Path
from typing import Any, AsyncIterator, Generator

import watchfiles

Batch = set[tuple[watchfiles.Change, str]]


def polling_wanted() -> bool:
    """Polling, not native notifications, where watchfiles' documented rule for `force_polling=None` says so: the
    WATCHFILES_FORCE_POLLING variable, else WSL (decided here, so that the watcher can say which one watches)."""
    value = os.getenv("WATCHFILES_FORCE_POLLING")
    if value:
        return value.lower() not in {"false", "disable", "disabled"}
    uname = platform.uname()
    return "microsoft-standard" in uname.release.lower() and uname.system.lower() == "linux"


class _Watching:
    """watchfiles' stop_event (anything with is_set()): the notifier asks it at every step from its first on, so
    the first ask says it is watching; the answer is whether the owner halted."""

    def __init__(self, halt: threading.Event, loop: asyncio.AbstractEventLoop) -> None:
        self.halt, self.loop = halt, loop
        self.started: asyncio.Future[None] = loop.create_future()
        self._told = False

    def is_set(self) -> bool:
        if not self._told:
            self._told = True
            self.loop.call_soon_threadsafe(self._start)
        return self.halt.is_set()

    def _start(self) -> None:
        if not self.started.done():
            self.started.set_result(None)


class FolderNotifier:
    """`await start()` returns once the folder is watched; `batches()` then yields each batch of changed paths
    (read in a thread) until `halt` is set; `await close()` after that. kind: "native" or "polling"."""

    def __init__(self, folder: Path, halt: threading.Event, *, debounce_ms: int, step_ms: int) -> None:
        self.folder, self.halt = folder, halt
        self.debounce_ms, self.step_ms = debounce_ms, step_ms
        self.kind = "native"
        self._batches: Generator[Batch, None, None] | None = None
        self._first: asyncio.Future[Batch | None] | None = None

    async def start(self) -> None:
        """Native notifications unless polling is asked for; polling when they fail (e.g. out of inotify watches)."""
        polling = polling_wanted()
        while True:
            watching = _Watching(self.halt, asyncio.get_running_loop())
            batches = watchfiles.watch(self.folder, watch_filter=None, debounce=self.debounce_ms, step=self.step_ms,
                                       stop_event=watching, rust_timeout=500, raise_interrupt=False,
                                       force_polling=polling, ignore_permission_denied=True)
            first = asyncio.ensure_future(asyncio.to_thread(next, batches, None))
            either: list[asyncio.Future[Any]] = [first, watching.started]
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            failed = first.done() and first.exception() is not None and not watching.started.done()
            if not failed:
                self.kind, self._batches, self._first = "polling" if polling else "native", batches, first
                return
            if polling:
                await first  # raises why even polling could not watch
            polling = True

    async def batches(self) -> AsyncIterator[Batch]:
        assert self._batches is not None and self._first is not None, "start() first"
        batch = await self._first
        while batch is not None and not self.halt.is_set():
            yield batch
            batch = await asyncio.to_thread(next, self._batches, None)

    async def close(self) -> None:
        """Once `halt` is set: the notifier stops within a step; its generator closes it."""
        if self._first is not None:
            await asyncio.gather(self._first, return_exceptions=True)
        if self._batches is not None:
            self._batches.close()
