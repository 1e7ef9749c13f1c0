"""Pre-started hardened containers for DockerSandbox: their configuration, creation, a small pool (ours.py marks
them as ours and cleans up what a dead run left)."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tui_agent.sandbox.base import GIT_IDENTITY, SandboxSpec
from tui_agent.sandbox.docker import channel, host_supervisor
from tui_agent.sandbox.docker.engine import machine_id
from tui_agent.sandbox.docker.ours import (
    CLIENT_LABEL, LABEL, OWNER_LABEL, WORKSPACE_LABEL, owner_id, remember, remove_leftovers, remove_quietly, still_ours,
)

__all__ = ["remove_leftovers"]  # still imported from here by maintenance/recovery.py (its owner moves it to ours)

# No PYTHONPYCACHEPREFIX: the image's and the environment's precompiled bytecode is used, and the workspace's
# goes next to its sources (gitignored, so never in a diff or a deploy; bytecode.drop_stale keeps it honest).
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8",
       **GIT_IDENTITY}

def child_env(spec: SandboxSpec) -> dict[str, str]:
    """The whole environment of a check: the supervisor hands its child this, never the image's ENV."""
    return {**ENV, **dict(spec.env)}


def container_config(spec: SandboxSpec) -> dict[str, Any]:
    """containers.create() arguments: the hardening of DESIGN.md, nothing inherited from the host, and the host's
    own supervisor as the entrypoint (the image's entrypoint, command and healthcheck are cleared)."""
    lim = spec.limits
    supervisor = host_supervisor.ensure()
    return dict(
        image=spec.image,
        entrypoint=[host_supervisor.INSIDE],
        command=[],
        healthcheck={"test": ["NONE"]},
        user=f"{lim.uid}:{lim.gid}",
        environment=child_env(spec),
        working_dir="/workspace",
        volumes={str(Path(spec.workspace).resolve()): {"bind": "/workspace", "mode": "rw"},
                 str(supervisor.folder): {"bind": host_supervisor.INSIDE_DIR, "mode": "ro"},
                 **{str(host): {"bind": inside, "mode": mode} for host, inside, mode in spec.binds}},
        network_mode="none",
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        read_only=True,
        tmpfs={"/tmp": f"rw,nosuid,nodev,size={lim.tmpfs_mb}m,mode=1777"},
        shm_size=f"{min(lim.tmpfs_mb, 64)}m",
        pids_limit=lim.pids,
        mem_limit=f"{lim.memory_mb}m",
        memswap_limit=f"{lim.memory_mb}m",
        nano_cpus=int(lim.cpus * 1e9),
        ipc_mode="private",
        log_config={"type": "none", "config": {}},
        labels={LABEL: "1", OWNER_LABEL: owner_id(), WORKSPACE_LABEL: str(spec.workspace),
                CLIENT_LABEL: machine_id()},
        stop_signal="SIGKILL",  # nothing to stop gracefully; pid 1 ignores SIGTERM and an engine restart would wait
        stdin_open=True,  # with detach unset: AttachStdin + StdinOnce, so stdin closes when we go away
        tty=False,
    )


@dataclass
class Warm:
    """A started container whose supervisor waits for a command on the attached stdin."""

    container: Any
    stream: Any  # docker's SocketIO; keeps the HTTP response (and so the socket) alive
    sock: socket.socket
    workspace_key: tuple[int, int]
    created: float = field(default_factory=time.monotonic)

    @property
    def id(self) -> str:
        return self.container.id

    def alive(self) -> bool:
        """The attach socket is still open and quiet (an engine restart closes it)."""
        return channel.alive(self.sock)

    def close_socket(self) -> None:
        channel.close(self.sock)
        try:
            self.stream.close()
        except Exception:
            pass


def workspace_key(spec: SandboxSpec) -> tuple[int, int]:
    st = os.stat(spec.workspace)
    return st.st_dev, st.st_ino


Adapt = Callable[[dict], dict]  # engine and transport changes to container_config() (runtime, ulimits, volumes)


def create_warm(client, spec: SandboxSpec, created: set[str] | None = None, adapt: Adapt | None = None) -> Warm:
    """Create, attach and start one container (blocking; call it in a thread)."""
    key = workspace_key(spec)
    config = container_config(spec)
    container = client.containers.create(**(adapt(config) if adapt else config))
    remember(client, container.id)
    if created is not None:
        created.add(container.id)
    try:
        stream = client.api.attach_socket(container.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
        container.start()
    except Exception:
        remove_quietly(client, container.id)
        raise
    sock = getattr(stream, "_sock", stream)  # over TLS the SDK hands back the TLS socket itself
    sock.setblocking(False)
    return Warm(container, stream, sock, key)


def finish(client, warm: Warm, expected: int | None, timeout_s: float = 10.0) -> str | None:
    """Wait for the container to exit, compare the engine's exit status, remove it; return a mismatch."""
    warm.close_socket()
    problem = None
    try:
        if expected is not None:
            status = warm.container.wait(timeout=timeout_s).get("StatusCode")
            if status != (expected & 0xFF):
                problem = f"engine exit status {status} differs from the reported exit code {expected}"
    except Exception as exc:
        problem = f"could not confirm the exit status: {str(exc).splitlines()[0] if str(exc) else exc!r}"
    remove_quietly(client, warm.id)
    return problem


class Pool:
    """Keeps up to `size` warm containers for one workspace; refills in the background."""

    def __init__(self, client, spec: SandboxSpec, size: int = 2, adapt: Adapt | None = None):
        self.client, self.spec, self.size, self.adapt = client, spec, max(0, size), adapt
        self.ready: list[Warm] = []
        self._filling = 0
        self._tasks: set[asyncio.Task] = set()
        self._closed = False
        self._changed = asyncio.Event()
        self.created: set[str] = set()  # every container id this pool made

    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def refill(self) -> None:
        while not self._closed and len(self.ready) + self._filling < self.size:
            self._filling += 1
            self.spawn(self._add_one())

    async def _add_one(self) -> None:
        try:
            warm = await asyncio.to_thread(create_warm, self.client, self.spec, self.created, self.adapt)
        except Exception:
            warm = None  # the next take() creates one itself and reports the error
            await asyncio.sleep(0.5)  # no busy loop of refills while the engine is away
        finally:
            self._filling -= 1
        if warm is not None:
            if self._closed:
                await asyncio.to_thread(remove_quietly, self.client, warm.id)
            else:
                self.ready.append(warm)
        self._changed.set()

    async def take(self) -> Warm:
        """A live warm container for the current workspace (created now if the pool is empty). The caller calls
        refill() once its run is over: creating a container while a check runs competes with it for the CPU."""
        key = await asyncio.to_thread(workspace_key, self.spec) if not self.ready else workspace_key(self.spec)
        while self.ready:
            warm = self.ready.pop(0)
            if warm.workspace_key == key and warm.alive():
                if not self.ready:
                    self.refill()  # nothing left for the next run: do not wait for this one to end
                return warm
            self.discard(warm)
        warm = await asyncio.to_thread(create_warm, self.client, self.spec, self.created, self.adapt)
        self.refill()
        return warm

    def discard(self, warm: Warm) -> None:
        warm.close_socket()
        self.spawn(asyncio.to_thread(remove_quietly, self.client, warm.id))

    def flush(self) -> None:
        """Drop every warm container (after an engine failure they are all suspect)."""
        while self.ready:
            self.discard(self.ready.pop())

    async def wait_full(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        self.refill()
        while len(self.ready) < self.size and time.monotonic() < deadline:
            self._changed.clear()
            if self._filling == 0:
                self.refill()
            try:
                await asyncio.wait_for(self._changed.wait(), max(0.01, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                break
        busy = list(self._tasks)  # confirmations and removals still under way: let them finish too
        if busy and time.monotonic() < deadline:
            await asyncio.wait(busy, timeout=max(0.01, deadline - time.monotonic()))

    async def close(self) -> None:
        self._closed = True
        self.flush()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        for cid in still_ours(self.created):  # removals that failed earlier (engine was down)
            await asyncio.to_thread(remove_quietly, self.client, cid)
