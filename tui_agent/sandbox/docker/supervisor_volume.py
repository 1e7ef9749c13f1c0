"""The host's supervisor on a remote engine: a volume named by the binary's hash, filled and checked through the API.

A remote engine cannot bind a folder of this machine, so the supervisor goes into a volume once (put_archive into a
created, never started, helper container of the sandbox image) and every container mounts it read-only. A volume
of that name whose content does not hash to its name is replaced, never used.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import threading

from tui_agent.sandbox.docker import host_supervisor
from tui_agent.sandbox.docker import ours
from tui_agent.sandbox.docker.archive import tar_bytes
from tui_agent.sandbox.docker.engine import machine_id
from tui_agent.sandbox.docker.image import DEFAULT_IMAGE

PREFIX = "tui-agent-supervisor-"
ROLE = "supervisor-volume"


def volume_name(binary: host_supervisor.Binary) -> str:
    return PREFIX + binary.digest[:40]


def _helper(client, volume: str, mode: str):
    return client.containers.create(
        image=DEFAULT_IMAGE, entrypoint=["/nonexistent"], command=[], network_mode="none", user="0:0",
        volumes={volume: {"bind": "/s", "mode": mode}},
        labels={ours.LABEL: "1", ours.OWNER_LABEL: ours.owner_id(),
                ours.CLIENT_LABEL: machine_id(), "tui-agent.role": ROLE})


def _content(client, volume: str) -> bytes | None:
    helper = _helper(client, volume, "ro")
    try:
        stream, _ = helper.get_archive(f"/s/{host_supervisor.NAME}")
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = tar.getmember(host_supervisor.NAME)
            got = tar.extractfile(member) if member.isfile() and member.mode & 0o022 == 0 else None
            return got.read() if got else None
    except Exception:
        return None
    finally:
        ours.remove_quietly(client, helper.id)


_LOCK = threading.Lock()  # one filler at a time in this process (a batch starts pools on several hosts at once)


def _fill(client, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(host_supervisor.NAME)
    info.size, info.mode = len(data), 0o555
    helper = _helper(client, name, "rw")
    try:
        if not helper.put_archive("/s", tar_bytes([(info, data)])):
            raise RuntimeError(f"could not fill volume {name}")
    finally:
        ours.remove_quietly(client, helper.id)


def ensure(client, binary: host_supervisor.Binary) -> str:
    """The name of a volume on `client`'s engine holding exactly this supervisor (made or repaired now).

    Filling is idempotent (the same bytes under the same name), so another process filling it at the same moment
    is harmless: a volume still empty is filled again, never removed; only wrong content is thrown away."""
    name = volume_name(binary)
    data = binary.path.read_bytes()
    with _LOCK:
        for _ in range(3):  # another process may be writing the same bytes right now: fill and look again
            existing = {v.get("Name") for v in client.api.volumes(filters={"name": name}).get("Volumes") or []}
            content = _content(client, name) if name in existing else None
            if content is not None and hashlib.sha256(content).hexdigest() == binary.digest:
                return name
            if content is not None:  # something else under our name: never used
                client.api.remove_volume(name, force=True)
                existing.discard(name)
            if name not in existing:
                client.volumes.create(name, driver="local", labels={ours.LABEL: "1", "tui-agent.role": ROLE})
            _fill(client, name, data)
            content = _content(client, name)
            if content is not None and hashlib.sha256(content).hexdigest() == binary.digest:
                return name
    raise RuntimeError(f"volume {name} does not hold the supervisor it was filled with")
