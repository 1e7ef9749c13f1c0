"""A session's in-use lock: held by the process whose workspace is open, free the moment that process dies."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK = "workspace.lock"


class InUse(Exception):
    """Another live process has this session's workspace open."""


def hold(session_dir: Path) -> int:
    """Take the lock (never waits); the fd to give to release()."""
    Path(session_dir).mkdir(parents=True, exist_ok=True)
    fd = os.open(Path(session_dir) / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise InUse(f"session {Path(session_dir).name} is open in another tui-agent process") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)  # an empty lock file was never held by a run: never abandoned
    return fd


def release(fd: int) -> None:
    if fd >= 0:
        os.close(fd)


def abandoned(session_dir: Path) -> bool:
    """The session was opened by a process that is gone: its lock file names a process and nobody holds it. A
    session without one (made by an older tui-agent, or not a session at all) is never called abandoned."""
    try:
        fd = os.open(Path(session_dir) / LOCK, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)  # never created here
    except OSError:
        return False
    try:
        if not os.pread(fd, 32, 0).strip().isdigit():
            return False
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, OSError):
        return False
    finally:
        os.close(fd)
    return True


def held(session_dir: Path) -> bool:
    """A live process holds the session's lock (a session without a lock file is not held)."""
    try:
        fd = os.open(Path(session_dir) / LOCK, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
