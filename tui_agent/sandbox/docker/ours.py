"""What marks a container or volume as ours (labels, the owner process and machine), the record of the containers
this process made (removed at exit), and the clean-up of what a run that died left behind."""

from __future__ import annotations

import atexit
import os
import threading
from typing import Any

from tui_agent.sandbox.docker.engine import machine_id

LABEL = "tui-agent"  # value "1" on every container we create
OWNER_LABEL = "tui-agent.owner"  # "pid:starttime" of the creating process
WORKSPACE_LABEL = "tui-agent.workspace"
CLIENT_LABEL = "tui-agent.client"  # the machine that made it: a shared remote engine serves several

_live: dict[str, Any] = {}  # id -> engine client, for containers this process created and has not removed yet
_live_lock = threading.Lock()


def _start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]  # field 22: starttime in clock ticks
    except (OSError, IndexError):
        return None


def owner_id(pid: int | None = None) -> str:
    pid = os.getpid() if pid is None else pid
    return f"{pid}:{_start_time(pid)}"


def owner_alive(owner: str) -> bool:
    pid, _, start = owner.partition(":")
    return pid.isdigit() and _start_time(int(pid)) == start


def remove_leftovers(client) -> int:
    """Remove labelled containers whose creating process is gone (a crashed run); return how many."""
    removed = 0
    here = machine_id()
    for c in labelled(client):
        labels = c.get("Labels") or {}
        if labels.get(CLIENT_LABEL, here) != here:
            continue  # another machine's run: its owner pid means nothing here
        if not owner_alive(labels.get(OWNER_LABEL, "")) and remove_quietly(client, c["Id"]):
            removed += 1
    return removed


def labelled(client) -> list[dict]:
    """Every container carrying our label, as the engine lists them (one call, no per-container inspect)."""
    return client.api.containers(all=True, filters={"label": f"{LABEL}=1"})


def remember(client, cid: str) -> None:
    """Record a container we made, so that it is removed at exit even if nothing else did."""
    with _live_lock:
        _live[cid] = client


def _forget(cid: str) -> None:
    with _live_lock:
        _live.pop(cid, None)


@atexit.register
def _remove_ours_at_exit() -> None:
    with _live_lock:
        left = list(_live.items())
    for cid, client in left:  # each with the client of its own engine
        try:
            client.api.remove_container(cid, force=True)
        except Exception:
            pass


def remove_quietly(client, cid: str) -> bool:
    """Force-remove a container; False (and it stays on record for a later try) if the engine failed."""
    import docker

    try:
        client.api.remove_container(cid, force=True)
    except docker.errors.NotFound:
        pass
    except Exception:
        return False
    _forget(cid)
    return True


def still_ours(ids: set[str]) -> list[str]:
    with _live_lock:
        return [cid for cid in ids if cid in _live]
