"""Headless mode: one JSON object per event on stdout; never asks (the policy's asks are denied), never deploys."""

from __future__ import annotations

import asyncio
import json
import signal
import sys

from tui_agent.commands import Stop
from tui_agent.events import Event, Finished
from tui_agent.handle import RunHandle
from tui_agent.sanitize import one_line

EXIT_CODES = {"met": 0, "stopped": 1, "error": 1, "invalid": 2}


def printer(stream=None):
    out = stream or sys.stdout

    def sink(event: Event) -> None:
        out.write(json.dumps(event.to_dict(), ensure_ascii=True, default=str) + "\n")
        out.flush()

    return sink


async def run_headless(run: RunHandle) -> int:
    """Run to the end, printing events; Ctrl-C / SIGTERM stop the loop cleanly (exit 1)."""
    run.subscribe(printer())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, run.send, Stop(f"interrupted ({signal.Signals(sig).name})"))
    try:
        finished: Finished = await run.execute()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await run.close()
    if finished.outcome == "invalid":
        print(f"tui-agent: error: {one_line(finished.reason)}", file=sys.stderr)
    return EXIT_CODES.get(finished.outcome, 1)
