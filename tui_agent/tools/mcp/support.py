"""MCP client helpers: tool naming, error unwrapping, a watched read stream (results complete by default), stderr."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections import deque
from typing import Any, Callable

import anyio
from mcp import MCPError
from mcp_types.jsonrpc import JSONRPCResponse


_TOOL_NAME = re.compile(r"[^A-Za-z0-9_-]")


def tool_name(server: str, tool: str) -> str:
    """Claude Code's naming, `mcp__<server>__<tool>`, kept within the API's 64 characters."""
    return ("mcp__" + server + "__" + _TOOL_NAME.sub("_", tool))[:64]


def unwrap(exc: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def describe(exc: BaseException) -> str:
    exc = unwrap(exc)
    if isinstance(exc, FileNotFoundError):
        return f"command not found: {exc.filename or exc}"
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, MCPError) else f"{type(exc).__name__}: {text}"


def complete_by_default(message: Any) -> None:
    """A result without `resultType` is a complete one (the spec's default; the SDK's schema check would refuse it)."""
    response = getattr(message, "message", None)
    if isinstance(response, JSONRPCResponse) and isinstance(response.result, dict):
        response.result.setdefault("resultType", "complete")


class WatchedRead:
    """Wraps a transport's read stream: its end (EOF, server gone) calls `on_eof`."""

    def __init__(self, inner: Any, on_eof: Callable[[], None]) -> None:
        self._inner, self._on_eof = inner, on_eof

    async def receive(self) -> Any:
        try:
            message = await self._inner.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._on_eof()
            raise
        complete_by_default(message)
        return message

    def __aiter__(self) -> "WatchedRead":
        return self

    async def __anext__(self) -> Any:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> "WatchedRead":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def follow_stderr(fd: int, tail: deque, on_line: Callable[[str], None]) -> None:
    """Read a server's stderr pipe without blocking: keep the last lines in `tail`, pass each to `on_line`."""
    loop, buf = asyncio.get_running_loop(), bytearray()
    os.set_blocking(fd, False)

    def readable() -> None:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            loop.remove_reader(fd)
            os.close(fd)
            chunk = b"\n" if buf else b""
        buf.extend(chunk)
        while b"\n" in buf:
            line, _, rest = bytes(buf).partition(b"\n")
            buf[:] = rest
            text = line.decode("utf-8", "replace").rstrip()
            tail.append(text)
            if text:
                with contextlib.suppress(Exception):
                    on_line(text)

    loop.add_reader(fd, readable)
