"""The attach protocol: newline-delimited JSON, one message a line; events and commands as their records.

Server → window: {"hello": {...}} once, then {"event": EVENT}, {"facts": {...}}, {"reply": {...}}.
Window → server: {"command": COMMAND}. A line longer than LIMIT ends the connection."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import struct
from pathlib import Path
from typing import Any

from tui_agent.commands import Command
from tui_agent.events import Event

SOCKET = "attach.sock"  # in the session folder
MAX_SOCKET_PATH = 100  # bytes; sun_path holds 108 with its NUL
LIMIT = 64 * 1024 * 1024  # one line (an event with a large diff); asyncio's default 64 KiB is too small


class AttachError(Exception):
    """No run to attach to, or the run refused this window."""


def line(kind: str, payload: Any) -> bytes:
    return json.dumps({kind: payload}, ensure_ascii=True).encode() + b"\n"


def event_line(event: Event) -> bytes:
    return line("event", event.to_dict())


def command_line(command: Command) -> bytes:
    return line("command", command.to_dict())


def parse(raw: bytes) -> tuple[str, Any]:
    """One message: its kind and payload. ValueError when it is not one."""
    data = json.loads(raw)
    if not isinstance(data, dict) or len(data) != 1:
        raise ValueError("an attach message is an object with one key")
    ((kind, payload),) = data.items()
    return kind, payload


def socket_path(session_dir: Path) -> Path:
    """The session's attach socket: in its folder, or, when that path is too long for a socket address (108
    bytes), in the person's own runtime folder under a name derived from the session folder's real path."""
    path = Path(session_dir) / SOCKET
    if len(os.fsencode(path)) <= MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(os.fsencode(Path(session_dir).resolve())).hexdigest()[:24]
    return runtime_dir() / f"{digest}.sock"


def runtime_dir() -> Path:
    """$XDG_RUNTIME_DIR/tui-agent, else /tmp/tui-agent-UID: made 0700 and checked to be the person's own (a folder
    someone else made in /tmp is refused, never used)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    folder = Path(base) / "tui-agent" if base and os.path.isabs(base) else Path(f"/tmp/tui-agent-{os.getuid()}")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise AttachError(f"{folder} is not a private folder of this user: no attach socket there")
    return folder


def peer_uid(sock: socket.socket) -> int:
    """The user id of the process at the other end (SO_PEERCRED), checked by the kernel, not claimed."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def same_user(sock: socket.socket | None) -> bool:
    return sock is not None and peer_uid(sock) == os.getuid()


def live(session_dir: Path) -> bool:
    """A run is serving this session now: its socket answers (not one a killed run left behind)."""
    try:
        path = socket_path(session_dir)
    except AttachError:
        return False
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True
