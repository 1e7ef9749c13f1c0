"""Non-blocking reads and writes on a container's attach socket: a plain socket, or TLS to a remote engine."""

from __future__ import annotations

import asyncio
import socket
import ssl


async def _ready(sock: socket.socket, write: bool) -> None:
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    fd = sock.fileno()
    add, remove = (loop.add_writer, loop.remove_writer) if write else (loop.add_reader, loop.remove_reader)
    add(fd, lambda: done.done() or done.set_result(None))
    try:
        await done
    finally:
        remove(fd)


async def recv(sock: socket.socket, size: int) -> bytes:
    """Up to `size` bytes; b"" when the engine closed the stream."""
    if not isinstance(sock, ssl.SSLSocket):
        return await asyncio.get_running_loop().sock_recv(sock, size)
    while True:  # asyncio's sock_* refuse TLS sockets: wait for the fd, let the TLS layer say what it needs
        try:
            return sock.recv(size)
        except ssl.SSLWantReadError:
            await _ready(sock, write=False)
        except ssl.SSLWantWriteError:
            await _ready(sock, write=True)


async def send_all(sock: socket.socket, data: bytes) -> None:
    if not isinstance(sock, ssl.SSLSocket):
        await asyncio.get_running_loop().sock_sendall(sock, data)
        return
    view = memoryview(data)
    while view:
        try:
            view = view[sock.send(view):]
        except ssl.SSLWantWriteError:
            await _ready(sock, write=True)
        except ssl.SSLWantReadError:
            await _ready(sock, write=False)


def alive(sock: socket.socket) -> bool:
    """The stream is still open and nothing unexpected arrived (a restarted engine closes it)."""
    try:
        if isinstance(sock, ssl.SSLSocket):  # TLS records without data (session tickets) are consumed here
            sock.recv(1)  # data before any command, or the end of the stream: either way it is unusable
            return False
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
        return True
    except (OSError, ValueError):
        return False


def close(sock: socket.socket) -> None:
    """Shut the stream both ways first: a reader blocked on it in another thread wakes up."""
    for step in (lambda: sock.shutdown(socket.SHUT_RDWR), sock.close):
        try:
            step()
        except (OSError, ValueError):
            pass
