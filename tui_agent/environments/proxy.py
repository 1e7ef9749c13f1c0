"""The build's only way out: an HTTP proxy on a Unix socket that reaches the configured package indexes only.

The build sandbox has no network. A tiny forwarder inside it (FORWARDER, run by the sandbox's python3) listens on
127.0.0.1:PORT and passes each connection to the bind-mounted socket, so that uv and pip use an ordinary
http://127.0.0.1:PORT proxy. Here, on the host, a request is served only when its (host, port) is a configured
index: CONNECT tunnels for https, absolute-form requests for http; credentials are added here and never enter."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from tui_agent.environments.indexes import Upstream

HEAD_LIMIT = 65536
INSIDE_PORT = 3128  # the forwarder's port in the sandbox's own network namespace

# Runs in the build sandbox as `python3 -I -S -c FORWARDER SOCKET PORT`: binds, then forks into the background
FORWARDER = r"""
import os, socket, sys, threading
path, port = sys.argv[1], int(sys.argv[2])
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", port))
server.listen(64)
if os.fork():
    os._exit(0)
os.setsid()
def pipe(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass
def serve(client):
    upstream = socket.socket(socket.AF_UNIX)
    try:
        upstream.connect(path)
    except OSError:
        client.close()
        return
    back = threading.Thread(target=pipe, args=(upstream, client), daemon=True)
    back.start()
    pipe(client, upstream)
    back.join()
    client.close()
    upstream.close()
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
"""


class IndexProxy:
    """Serves one build; `log(line)` hears about every refusal (the build log shows why a download failed)."""

    def __init__(self, allowed: dict[tuple[str, int], Upstream], ca: Path | None, log: Callable[[str], None]):
        self.allowed = {(h.lower(), p): u for (h, p), u in allowed.items()}
        self.log = log
        self.refused: list[str] = []
        self.served = 0
        self._ssl = ssl.create_default_context(cafile=str(ca) if ca else None)
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task] = set()

    async def start(self, socket_path: Path) -> None:
        self._server = await asyncio.start_unix_server(self._serve, path=str(socket_path), limit=HEAD_LIMIT)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        try:
            await self._handle(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError, ValueError):
            pass
        except asyncio.CancelledError:  # close() ends the connections: a task of asyncio.start_server's that
            pass  # ends cancelled makes asyncio print a traceback ("Exception in callback ...") on the person's stderr
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
        request_line, *headers = head.decode("latin-1").split("\r\n")
        method, target, _version = request_line.split(" ", 2)
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            key = (host.strip("[]").lower(), int(port))
            upstream = self.allowed.get(key)
            if upstream is None or upstream.tls or upstream.auth:
                return await self._refuse(writer, f"CONNECT {target}")
            up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(key[0], upstream.port), 30)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
        else:
            url = urlsplit(target)
            if url.scheme != "http" or not url.hostname:
                return await self._refuse(writer, f"{method} {target[:200]}")
            key = (url.hostname.lower(), url.port or 80)
            upstream = self.allowed.get(key)
            if upstream is None:
                return await self._refuse(writer, f"{method} {url.scheme}://{key[0]}:{key[1]}")
            up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(
                key[0], upstream.port, ssl=self._ssl if upstream.tls else None,
                server_hostname=key[0] if upstream.tls else None), 30)
            path = (url.path or "/") + (f"?{url.query}" if url.query else "")
            kept = [h for h in headers if h and h.split(":", 1)[0].strip().lower() not in (
                "connection", "proxy-connection", "proxy-authorization", "keep-alive")
                    and not (upstream.auth and h.lower().startswith("authorization:"))]
            kept += ["Connection: close"] + ([f"Authorization: {upstream.auth}"] if upstream.auth else [])
            up_writer.write(f"{method} {path} HTTP/1.1\r\n".encode("latin-1")
                            + "".join(h + "\r\n" for h in kept).encode("latin-1") + b"\r\n")
        self.served += 1
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        up_writer.close()

    async def _refuse(self, writer: asyncio.StreamWriter, what: str) -> None:
        self.refused.append(what)
        self.log(f"[proxy] refused {what}: not a configured package index")
        body = b"tui-agent: only the configured package indexes are reachable during an environment build\n"
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await writer.drain()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (OSError, RuntimeError):
        pass
