"""Leaving a live run: its window closes (ctrl+q, or the terminal went away) and the run goes on without it.

Closing a window never stops a run; stopping is a command (`x` in any window, `tui-agent stop`, SIGTERM). The run's
own process keeps running it, detached from the terminal (tui/keeper.py), and serves other windows through its
attach socket. Once the run has finished and no window is attached any more, it closes as if its window had quit
(a met goal's changes stay in the session for `tui-agent review`).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from tui_agent.sanitize import one_line

if TYPE_CHECKING:
    from tui_agent.tui.app import AgentApp


def leave(app: AgentApp) -> bool:
    """Close the window, not the run, when the run is live and its launcher can keep it; False otherwise."""
    task = app.exec_task
    if not app.leave_allowed or app.closed or app.left or task is None or task.done() or app.finished is not None:
        return False
    if app.agent_run is None or app.agent_run.attach_unavailable():  # nobody could reach the run again: stop it
        return False
    app.left = True
    app.exit(0, return_code=0)
    return True


def left_note(app: AgentApp) -> str:
    name = app.agent_run.session_dir.name if app.agent_run is not None else "?"
    return (f"tui-agent: the run goes on in the background (session {one_line(name)}).\n"
            f"  tui-agent attach {name}   opens it again\n"
            f"  tui-agent stop {name}     stops it")


async def keep_running(app: AgentApp) -> int:
    """After the window has left: the run to its end, then until the last attached window leaves, then closed."""
    from tui_agent.tui.keeper import leave_terminal

    with contextlib.suppress(OSError, ValueError):  # the terminal may be gone already (a hangup)
        print(left_note(app), flush=True)
    leave_terminal()
    if app.exec_task is not None:
        with contextlib.suppress(Exception):
            app.finished = await app.exec_task
    if app.agent_run is not None:
        await app.agent_run.alone()  # the other windows attached to the run have left
    app.left = False
    await app.shutdown()
    return app.exit_code

