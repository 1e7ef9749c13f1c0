"""The Docker engine a test may kill: the dockerd serving DOCKER_HOST, restarted as it was whatever happens."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path

DEFAULT_HOST = "unix:///var/run/docker.sock"
LOG = Path("/tmp/dockerd.log")


def _hosts(argv: list[str]) -> list[str]:
    """The sockets a dockerd command line listens on (-H X, --host X, --host=X, -HX)."""
    found = []
    for i, word in enumerate(argv):
        if word in ("-H", "--host") and i + 1 < len(argv):
            found.append(argv[i + 1])
        elif word.startswith("--host="):
            found.append(word.split("=", 1)[1])
        elif word.startswith("-H") and len(word) > 2:
            found.append(word[2:])
    return [h if "://" in h else "unix://" + h for h in found] or [DEFAULT_HOST]


def _alive(pid: int) -> bool:
    """pid runs (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def engine_process() -> tuple[int, list[str]] | None:
    """(pid, argv) of the local dockerd that serves DOCKER_HOST (the default socket when unset)."""
    want = os.environ.get("DOCKER_HOST") or DEFAULT_HOST
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "dockerd":
                argv = (entry / "cmdline").read_bytes().rstrip(b"\0").decode().split("\0")
                if want in _hosts(argv) and _alive(int(entry.name)):
                    return int(entry.name), argv
        except OSError:
            continue
    return None


def answers() -> bool:
    import docker

    try:
        client = docker.from_env(timeout=10)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def wait_answers(timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if answers():
            return True
        time.sleep(0.2)
    return answers()


def restart(pid: int, argv: list[str]) -> bool:
    """Start dockerd again exactly as it was, once the killed one is gone; True when it answers.

    Reads the process table once per poll (never twice in a row: the old process can vanish in between)
    and never raises before it has tried."""
    deadline = time.monotonic() + 30
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    for _ in range(3):
        if answers():
            return True
        with open(LOG, "ab") as log:
            subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        if wait_answers(90):
            return True
    return False


@contextlib.contextmanager
def engine_to_kill():
    """Yields the pid of the engine the test may SIGKILL; the engine answers again afterwards, or the test fails."""
    found = engine_process()
    if found is None or os.geteuid() != 0:
        import pytest

        pytest.fail("no local dockerd serves DOCKER_HOST for this test to kill and restart (run it as root, "
                    "e.g. against scripts/private-engine.sh)")
    pid, argv = found
    try:
        yield pid
    finally:
        assert restart(pid, argv), f"dockerd did not come back (see {LOG})"
