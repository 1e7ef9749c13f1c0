"""Ending on a signal: SIGHUP (the terminal went away) and SIGTERM close the run before the app exits."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from typing import Any

ENDING_SIGNALS = ("SIGHUP", "SIGTERM")
EXIT_GRACE_S = 10.0  # once the run is closed, the app gets this long to exit before the process ends anyway


def on_ending_signals(app) -> dict[int, Any]:
    """Route SIGHUP and SIGTERM to app.end_on_signal(name), on the app's loop; returns the handlers replaced.

    A hangup also brings SIGCONT (the kernel sends both to the session leader); Textual would answer it by
    restarting its screen on the dead terminal and deadlock its writer, so the hangup handler, which Python
    runs first (lower number), puts SIGCONT back to its default and points the standard streams at /dev/null."""
    loop = asyncio.get_running_loop()
    replaced: dict[int, Any] = {}

    def handler(signum: int, frame) -> None:
        name = signal.Signals(signum).name
        if name == "SIGHUP":
            signal.signal(signal.SIGCONT, signal.SIG_DFL)
            detach_terminal()
        loop.call_soon_threadsafe(app.end_on_signal, name)

    if threading.current_thread() is not threading.main_thread():
        return replaced
    for name in ENDING_SIGNALS:
        signum = getattr(signal, name, None)
        if signum is not None:
            replaced[signum] = signal.signal(signum, handler)
    return replaced


def forget_ending_signals(replaced: dict[int, Any]) -> None:
    for signum, previous in replaced.items():
        signal.signal(signum, previous if previous is not None else signal.SIG_DFL)


def detach_terminal() -> None:
    """The terminal is gone: point stdin, stdout and stderr at /dev/null so that the screen's last writes
    (restoring the terminal) go nowhere instead of failing."""
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        for fd in (0, 1, 2):
            try:
                os.dup2(devnull, fd)
            except OSError:
                pass
    finally:
        os.close(devnull)


def exit_soon(code: int, after_s: float = EXIT_GRACE_S) -> None:
    """A last resort once the run is closed: if the process is still there `after_s` later (the screen's own
    shutdown stuck on a dead terminal), end it. A daemon thread: it works even when the event loop is blocked."""
    timer = threading.Timer(after_s, os._exit, (code,))
    timer.daemon = True
    timer.start()
