"""Environments on Docker: an image per environment, committed from a hardened build container."""

from __future__ import annotations

import json
import tarfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tui_agent.config import ConfigError
from tui_agent.environments.script import PREFIX
from tui_agent.sandbox.base import Limits
from tui_agent.sandbox.docker import ours
from tui_agent.sandbox.docker.archive import tar_bytes
from tui_agent.sandbox.docker.engine import Engine, from_env
from tui_agent.sandbox.docker.engine_probe import start_service

REPOSITORY = "tui-agent-env"
KEY_LABEL = "tui-agent.env"  # the environment's key, on every environment image
PROJECT_LABEL = "tui-agent.env.project"
BASE_LABEL = "tui-agent.env.base"  # on the images built from a project's Dockerfile


@dataclass(frozen=True)
class Entry:
    key: str
    name: str  # the image, or the prefix folder
    project: str
    size_bytes: int
    created: float


def _client(engine: Engine | None = None):
    """A client of the engine the environment lives on (DOCKER_HOST's when none is named)."""
    engine = engine or from_env()
    if engine.service and (problem := start_service(engine)):  # the local Podman service, started on demand
        raise ConfigError(problem)
    return engine.client(timeout=120)


def image_id(name: str, engine: Engine | None = None) -> str:
    """The id of a local image; ConfigError when it is not here (nothing is pulled)."""
    import docker

    client = _client(engine)
    try:
        return client.images.get(name).id
    except docker.errors.ImageNotFound:
        where = (engine or from_env()).label
        raise ConfigError(f"image {name} is not on {where} (nothing is pulled): build it first") from None
    finally:
        client.close()


def find(key: str, engine: Engine | None = None) -> Entry | None:
    import docker

    client = _client(engine)
    try:
        image = client.images.get(f"{REPOSITORY}:{key}")
    except docker.errors.ImageNotFound:
        return None
    finally:
        client.close()
    return _entry(image.attrs)


def _entry(attrs: dict, name: str | None = None) -> Entry:
    labels = (attrs.get("Config") or {}).get("Labels") or {}
    name = name or f"{REPOSITORY}:{labels.get(KEY_LABEL, '?')}"
    return Entry(labels.get(KEY_LABEL, "base"), name, labels.get(PROJECT_LABEL, "?"), int(attrs.get("Size") or 0),
                 _when(attrs.get("Created", "")))


def _when(text: str) -> float:
    try:
        return time.mktime(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return 0.0


def _tags(image: dict) -> list[str]:
    """Its tags; an untagged image (its tag taken by a rebuild) is listed by Docker 20 as <none>:<none>, a name it
    cannot remove it by (Podman says <none> too): it is named by its id instead."""
    return [t for t in image.get("RepoTags") or () if t != "<none>:<none>"]


def entries(engine: Engine | None = None) -> list[Entry]:
    client = _client(engine)
    try:
        found = {i["Id"]: i for label in (KEY_LABEL, BASE_LABEL) for i in client.api.images(filters={"label": label})}
        return [_entry(client.api.inspect_image(i), tag) for i, image in found.items()  # one per tag: the same
                for tag in _tags(image) or [i]]  # Dockerfile built twice is one image with two tags
    finally:
        client.close()


def remove(entry: Entry, engine: Engine | None = None) -> str | None:
    """Remove an environment image; a one-line reason when the engine refuses (e.g. still in use)."""
    client = _client(engine)
    try:
        client.images.remove(entry.name)
        return None
    except Exception as exc:
        return str(exc).splitlines()[0][:200]
    finally:
        client.close()


def untag(tag: str, engine: Engine | None = None) -> None:
    """Drop a name, keep the image (an environment image still builds on it)."""
    client = _client(engine)
    try:
        client.images.remove(tag, noprune=True)
    except Exception:
        pass
    finally:
        client.close()


def build_base(context: Path, dockerfile: str, tag: str, on_line: Callable[[str], None],
               engine: Engine | None = None) -> str:
    """`docker build` of a project's Dockerfile with no network and no pull; the image's id."""
    client = _client(engine)
    try:
        for item in client.api.build(path=str(context), dockerfile=dockerfile, tag=tag, rm=True, forcerm=True,
                                     network_mode="none", pull=False, decode=True, labels={BASE_LABEL: "1"}):
            if "error" in item:
                raise BuildError("dockerfile", f"docker build failed: {item['error'].strip()[:300]}")
            text = item.get("stream") or item.get("status")
            if text and text.strip():
                for line in text.rstrip().splitlines():
                    on_line(line)
        return client.images.get(tag).id
    finally:
        client.close()


class BuildError(Exception):
    def __init__(self, step: str, message: str) -> None:
        super().__init__(message)
        self.step = step


def _owned_dirs(paths: list[str], uid: int, gid: int) -> bytes:
    entries = []
    for path in paths:
        info = tarfile.TarInfo(path.lstrip("/"))
        info.type, info.mode, info.uid, info.gid = tarfile.DIRTYPE, 0o755, uid, gid
        entries.append((info, None))
    return tar_bytes(entries)


def build(base: str, key: str, project: str, script: str, binds: list[tuple[str, str, str]], limits: Limits,
          on_output: Callable[[bytes], None], cancelled: threading.Event, engine: Engine | None = None) -> Entry:
    """Run `script` in a build container on `base` (no network: the proxy socket is its way out); commit it."""
    from docker.types import Mount

    engine = engine or from_env()
    client = _client(engine)
    lim = limits
    container = client.containers.create(
        image=base, entrypoint=[""], command=["/bin/sh", "-c", script], user=f"{lim.uid}:{lim.gid}", environment={},
        working_dir="/workspace",
        mounts=[Mount(inside, h, type="bind", read_only=mode == "ro") for h, inside, mode in binds],
        network_mode="none", cap_drop=["ALL"], security_opt=["no-new-privileges"], read_only=False,
        tmpfs={"/tmp": f"rw,nosuid,nodev,size={lim.tmpfs_mb}m,mode=1777"}, pids_limit=lim.pids,
        mem_limit=f"{lim.memory_mb}m", memswap_limit=f"{lim.memory_mb}m", nano_cpus=int(lim.cpus * 1e9),
        ipc_mode="private", log_config={"type": "none", "config": {}}, stop_signal="SIGKILL",
        labels={ours.LABEL: "1", ours.OWNER_LABEL: ours.owner_id()},
        **engine.container_options(None, lim.pids))
    try:
        container.put_archive("/", _owned_dirs(["/opt", "/opt/tui-agent", PREFIX], lim.uid, lim.gid))
        stream = container.attach(stdout=True, stderr=True, stream=True, logs=False)
        container.start()
        timed_out = threading.Event()
        threading.Thread(target=_kill_when, args=(cancelled, timed_out, container, lim.timeout_s), daemon=True).start()
        for chunk in stream:
            on_output(chunk)
        status = container.wait(timeout=30).get("StatusCode")
        if timed_out.is_set():
            raise BuildError("", f"timed out after {lim.timeout_s:.0f} s")
        if cancelled.is_set():
            raise BuildError("", "stopped before it finished")
        if status != 0:
            raise BuildError("", f"exit {status}")
        labels = {KEY_LABEL: key, PROJECT_LABEL: project}
        changes = ['CMD ["python3"]'] + [f"LABEL {k}={json.dumps(v)}" for k, v in labels.items()]  # Podman's API
        before = _id_of(client, f"{REPOSITORY}:{key}")  # --force: the image it replaces goes once it is replaced
        image = container.commit(repository=REPOSITORY, tag=key, conf={"Labels": labels},  # reads no conf
                                 changes=changes)  # the entrypoint stays cleared
        if before is not None and before != image.id:
            try:
                client.api.remove_image(before)
            except Exception:
                pass  # still used by a container: it goes with `env prune`
        return _entry(client.api.inspect_image(image.id))
    finally:
        cancelled.set()
        ours.remove_quietly(client, container.id)
        client.close()


def _id_of(client, name: str) -> str | None:
    try:
        return client.api.inspect_image(name)["Id"]
    except Exception:
        return None


def _kill_when(cancelled: threading.Event, timed_out: threading.Event, container, timeout_s: float) -> None:
    if not cancelled.wait(timeout_s):
        timed_out.set()
    try:
        container.kill()
    except Exception:
        pass
