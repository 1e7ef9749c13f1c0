"""ssh:// engines: a local unix socket that the ssh client forwards to the engine's socket on the remote machine."""

from __future__ import annotations

import atexit
import hashlib
import os
import subprocess
import threading
import time
from urllib.parse import urlsplit

from tui_agent.sandbox.docker.engine import runtime_dir, socket_listens

_tunnels: dict[str, subprocess.Popen] = {}
_lock = threading.Lock()


def forward(url: str, remote_socket: str, wait_s: float = 15.0) -> str:
    """unix:// address of a local socket reaching `remote_socket` on the machine of ssh://[user@]host[:port]."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise ConnectionError(f"not an ssh address: {url}")
    dest = f"{parts.username}@{parts.hostname}" if parts.username else parts.hostname
    local = runtime_dir() / f"ssh-{hashlib.sha256(f'{url} {remote_socket}'.encode()).hexdigest()[:16]}.sock"
    address = f"unix://{local}"
    with _lock:
        proc = _tunnels.get(address)
        if proc is not None and proc.poll() is None and socket_listens(address):
            return address
        local.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if local.exists():
            local.unlink()
        argv = ["ssh", "-nNT", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes",
                "-o", "ServerAliveInterval=10", "-L", f"{local}:{remote_socket}", dest]
        if parts.port:
            argv[1:1] = ["-p", str(parts.port)]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _tunnels[address] = proc
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if socket_listens(address):
            os.chmod(local, 0o600)
            return address
        if proc.poll() is not None:
            said = proc.stderr.read().decode(errors="replace").strip().splitlines() if proc.stderr else []
            raise ConnectionError(f"ssh to {dest} failed: {said[-1][:200] if said else f'exit {proc.returncode}'}")
        time.sleep(0.05)
    proc.kill()
    raise ConnectionError(f"ssh to {dest} did not forward {remote_socket} within {wait_s:.0f} s")


@atexit.register
def _close_all() -> None:
    for proc in list(_tunnels.values()):
        if proc.poll() is None:
            proc.terminate()
