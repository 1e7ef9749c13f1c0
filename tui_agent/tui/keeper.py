"""The keeper: why closing the run's own window can leave the run running and still give the shell its prompt back.

`tui-agent run` (and demo, resume) in a terminal forks once, first thing, before any thread exists. The parent, the
keeper, only waits: it forwards the signals it gets (SIGTERM, SIGHUP, SIGINT) to the child and exits with the
child's exit code. The child is the app. When the person leaves a live run (ctrl+q, or the terminal closes), the
child puts its window away, starts its own session (no controlling terminal: no SIGHUP from it), points its standard
streams at /dev/null and tells the keeper, which exits 0: the shell prompt is back, the run goes on, and other
windows (`tui-agent attach`, `tui-agent serve`) reach it through its socket; `tui-agent stop` ends it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

FORWARDED = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
LEFT = b"L"
_told: int | None = None  # in the child: the pipe to the keeper


def fork_keeper() -> bool:
    """In a terminal, split into keeper and app; returns in the app (True when it has a keeper), never in the keeper.

    Not in a terminal, with threads already running (a fork would lose them), or with TUI_AGENT_NO_KEEPER set, it
    does nothing and returns False: the one process is the app, and leaving keeps it in the foreground."""
    global _told
    if _told is not None:  # one keeper already (a second command run after the first app, e.g. from its browser)
        return True
    if os.environ.get("TUI_AGENT_NO_KEEPER") or threading.active_count() > 1:
        return False
    if not (os.isatty(0) and os.isatty(1)):
        return False
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read_end)
        _told = write_end
        return True
    os.close(write_end)
    _keep(child, read_end)
    raise AssertionError("unreachable")  # _keep ends the process


def _keep(child: int, read_end: int) -> None:
    def forward(signum: int, frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signum)

    for signum in FORWARDED:
        signal.signal(signum, forward)
    said = b""
    with contextlib.suppress(OSError):
        said = os.read(read_end, 1)  # PEP 475: retried after a forwarded signal
    if said == LEFT:
        os._exit(0)
    _, status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(status)
    os._exit(code if code >= 0 else 128 - code)


def leave_terminal() -> bool:
    """In the app once its window is gone: no controlling terminal, quiet standard streams, the keeper told.
    Returns whether a keeper was told (the shell has its prompt back)."""
    global _told
    from tui_agent.tui.signals import detach_terminal

    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # the terminal's last hangup, if it is still on its way
    with contextlib.suppress(OSError):
        os.setsid()
    detach_terminal()
    if _told is None:
        return False
    with contextlib.suppress(OSError):
        os.write(_told, LEFT)
        os.close(_told)
    _told = None
    return True
