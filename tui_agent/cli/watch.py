"""`tui-agent watch`: build the run, then the watch TUI, or headless JSON lines (which never deploy)."""

from __future__ import annotations

import asyncio
import signal
import sys

from tui_agent.agent.loop import BadCheck
from tui_agent.cli.headless import printer
from tui_agent.config import Settings
from tui_agent.sanitize import one_line


async def watch_headless(run, *, auto_fix: bool = True, stream=None) -> int:
    """Print one JSON object per event until SIGINT/SIGTERM; report proposals (DeployReady), never apply them.

    Exit code: 0 when the last check passed, 1 when not, 2 when the check command does not exist."""
    from tui_agent.watch.watcher import Watcher

    watcher = Watcher(run, auto_fix=auto_fix)
    watcher.subscribe(printer(stream))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, watcher.stop, f"interrupted ({signal.Signals(sig).name})")
    try:
        return await watcher.run_until_stopped()
    except BadCheck as exc:
        print(f"tui-agent: error: {one_line(exc)}", file=sys.stderr)
        return 2
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await run.close()


async def start_watch(settings: Settings, *, headless: bool, auto_fix: bool) -> int:
    from tui_agent.agent.gate import NOBODY
    from tui_agent.runner import check_project, prepare

    if not headless:
        check_project(settings.project)
        from tui_agent.tui.watch_app import run_watch_tui

        try:
            return await run_watch_tui(settings, auto_fix=auto_fix)
        except BadCheck as exc:
            print(f"tui-agent: error: {one_line(exc)}", file=sys.stderr)
            return 2
    run = await prepare(settings, who=NOBODY)
    return await watch_headless(run, auto_fix=auto_fix)
