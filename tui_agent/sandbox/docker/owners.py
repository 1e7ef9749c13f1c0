"""Which engines a live process has sandbox containers on, recorded in the user's state folder, so that the next
start of any tui-agent command removes what a killed (`kill -9`) run left there, on Docker and Podman alike.

A record is written before the first container is created and removed once the sandbox closed cleanly; one whose
owner (pid and start time, as in the containers' owner label) is gone names an engine to clean. Cleaning removes
the containers and shipped-workspace volumes of this machine whose owner is dead, through the engine's API; a
local Podman whose service is not running is cleaned with the podman command itself (no service is started)."""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import subprocess
import time
from pathlib import Path

from tui_agent.sandbox.docker import engine as engines
from tui_agent.sandbox.docker import ours

ANSWER_S = 5  # how long recovery waits for an engine before leaving the record for the next start
GIVE_UP_S = 7 * 86400  # a record whose engine never answered for this long is dropped, with a last word


def _age_s(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def records_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "tui-agent" / "sandboxes"


def record(engine: engines.Engine) -> Path:
    """Note that this process is about to create containers on `engine`; the path to give to forget()."""
    folder = records_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    owner = ours.owner_id()
    path = folder / f"{owner.replace(':', '-')}-{secrets.token_hex(4)}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"owner": owner, "engine": dataclasses.asdict(engine)}))
    os.replace(tmp, path)
    return path


def forget(path: Path | None) -> None:
    if path is not None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _engine(data: dict) -> engines.Engine:
    fields = {f.name for f in dataclasses.fields(engines.Engine)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in fields}
    return engines.Engine(**values)


def _with_podman_command(engine: engines.Engine, owner: str) -> int:
    """Remove the owner's containers with the podman command (the service is not running); how many."""
    head = list(engine.service[:-4])  # (*head, "system", "service", "--time=600", url)
    listed = subprocess.run([*head, "ps", "-aq", "--filter", f"label={ours.OWNER_LABEL}={owner}"],
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    ids = listed.stdout.split() if listed.returncode == 0 else None
    if ids is None:
        raise OSError(listed.stderr.strip().splitlines()[-1] if listed.stderr.strip() else "podman ps failed")
    if ids:
        subprocess.run([*head, "rm", "-f", *ids], capture_output=True, timeout=120, stdin=subprocess.DEVNULL,
                       check=True)
    return len(ids)


def _with_api(engine: engines.Engine) -> int:
    client = engine.client(ANSWER_S)
    try:
        removed = ours.remove_leftovers(client)
        here = engines.machine_id()
        for volume in client.api.volumes(filters={"label": f"{ours.LABEL}=1"}).get("Volumes") or []:
            labels = volume.get("Labels") or {}
            if labels.get(ours.CLIENT_LABEL) == here and not ours.owner_alive(
                    labels.get(ours.OWNER_LABEL, "")):
                try:
                    client.api.remove_volume(volume["Name"])
                except Exception:
                    pass
        return removed
    finally:
        client.close()


def clean(path: Path, data: dict) -> str | None:
    """Remove what the dead owner of record `path` left on its engine; what was done (None: nothing to say).
    The record stays when the engine cannot be reached (the next start tries again)."""
    owner, engine = str(data.get("owner", "")), _engine(data.get("engine") or {})
    listens = engines.socket_listens(engine.url)
    if engine.kind == "podman" and engine.service and not listens:
        removed = _with_podman_command(engine, owner)
    elif engines.unix_path(engine.url) and not listens:
        return None  # the local Docker engine is down: its containers do not run; cleaned when it is back
    else:
        removed = _with_api(engine)
    forget(path)
    pid = owner.partition(":")[0]
    return (f"removed {removed} sandbox container(s) that a killed run (pid {pid}) left on {engine.label}"
            if removed else None)


def dead() -> list[tuple[Path, dict]]:
    """Records whose owner is gone (an unreadable record is dropped: it can name nothing to clean)."""
    folder = records_dir()
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text())
            owner = data["owner"]
        except (OSError, ValueError, KeyError, TypeError):
            forget(path)
            continue
        if not ours.owner_alive(str(owner)):
            found.append((path, data))
    return found


def recover() -> list[str]:
    """Clean the engines of every dead owner; one line for each that had something to remove or failed."""
    said = []
    for path, data in dead():
        try:
            line = clean(path, data)
        except Exception as exc:  # no engine answers now: try again at the next start, for a week
            first = str(exc).strip().splitlines()
            why = f"{type(exc).__name__}: {first[0][:200] if first else ''}"
            engine = _engine(data.get("engine") or {}).label
            if _age_s(path) > GIVE_UP_S:
                forget(path)
                said.append(f"gave up removing the sandbox containers a killed run left on {engine} a week ago "
                            f"({why}); remove containers labelled {ours.OWNER_LABEL}={data.get('owner')} "
                            "yourself")
            else:
                said.append(f"could not yet remove the sandbox containers a killed run left on {engine} ({why}); "
                            "tried again at the next start")
            continue
        if line:
            said.append(line)
    return said
