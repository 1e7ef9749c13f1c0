"""The attach protocol: newline-delimited JSON, one message a line; events and commands as their records.

Server → window: {"hello": {...}} once, then {"event": EVENT}, {"facts": {...}}, {"reply": {...}}.
Window → server: {"command": COMMAND}. A line longer than LIMIT ends the connection."""

from __future__ import annotations

import json
import os
import socket
import struct
from pathlib import Path
from typing import Any

from tui_agent.commands import Command
from tui_agent.events import Event

SOCKET = "attach.sock"  # in the session folder
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
    return Path(session_dir) / SOCKET


def peer_uid(sock: socket.socket) -> int:
    """The user id of the process at the other end (SO_PEERCRED), checked by the kernel, not claimed."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def same_user(sock: socket.socket | None) -> bool:
    return sock is not None and peer_uid(sock) == os.getuid()
