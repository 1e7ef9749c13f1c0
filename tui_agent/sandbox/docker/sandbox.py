"""DockerSandbox: each run in a fresh pre-started hardened container, framed by an in-container supervisor."""

from __future__ import annotations

import asyncio
import codecs
import json
import logging
import struct
import time

from tui_agent.sandbox.base import OutputCallback, RunResult, SandboxSpec, SandboxUnavailable
from tui_agent.sandbox.docker import pool as docker_pool
from tui_agent.sandbox.docker.image import DEFAULT_IMAGE, engine_problem, image_exists
from tui_agent.sanitize import sanitize

log = logging.getLogger(__name__)
STREAMS = {b"O": "stdout", b"E": "stderr"}


class _Frames:
    """Parses docker's multiplexed attach stream, then the supervisor's frames inside its stdout."""

    def __init__(self) -> None:
        self.raw = bytearray()  # docker: 8-byte header (stream, 0, 0, 0, size) + payload
        self.out = bytearray()  # supervisor: tag + 4-byte size + payload
        self.supervisor_stderr = bytearray()

    def feed(self, data: bytes) -> list[tuple[bytes, bytes]]:
        self.raw += data
        while len(self.raw) >= 8:
            kind, size = self.raw[0], struct.unpack(">I", self.raw[4:8])[0]
            if len(self.raw) < 8 + size:
                break
            payload = bytes(self.raw[8:8 + size])
            del self.raw[:8 + size]
            if kind == 1:
                self.out += payload
            elif len(self.supervisor_stderr) < 4096:
                self.supervisor_stderr += payload
        frames = []
        while len(self.out) >= 5:
            size = struct.unpack(">I", self.out[1:5])[0]
            if len(self.out) < 5 + size:
                break
            frames.append((bytes(self.out[:1]), bytes(self.out[5:5 + size])))
            del self.out[:5 + size]
        return frames


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


class DockerSandbox:
    """The Sandbox protocol on a Docker engine (see DESIGN.md, "Sandbox defaults")."""

    name = "docker"

    def __init__(self, spec: SandboxSpec, pool_size: int = 2):
        self.spec = spec
        self.pool_size = pool_size
        self.client = None
        self.pool: docker_pool.Pool | None = None
        self.confirm_problems: list[str] = []  # engine exit statuses that did not match a trailer

    @staticmethod
    def probe(spec: SandboxSpec | None = None) -> str | None:
        problem = engine_problem()
        if problem:
            return problem
        image = spec.image if spec else DEFAULT_IMAGE
        try:
            if not image_exists(image):
                return f"image {image} missing: run `tui-agent sandbox build --offline`"
        except Exception as exc:
            return f"could not check image {image}: {_one_line(exc)}"
        return None

    async def start(self) -> None:
        if self.pool is not None:
            return
        problem = await asyncio.to_thread(self.probe, self.spec)
        if problem:
            raise SandboxUnavailable(problem)
        if not self.spec.workspace.is_dir():
            raise SandboxUnavailable(f"workspace {self.spec.workspace} is not a directory")
        try:
            import docker

            self.client = await asyncio.to_thread(docker.from_env, timeout=30)
            await asyncio.to_thread(docker_pool.remove_leftovers, self.client)
            self.pool = docker_pool.Pool(self.client, self.spec, self.pool_size)
            first = await asyncio.to_thread(docker_pool.create_warm, self.client, self.spec, self.pool.created)
            self.pool.ready.append(first)
        except Exception as exc:
            await self.close()
            raise SandboxUnavailable(f"cannot start a sandbox container: {_one_line(exc)}") from exc
        self.pool.refill()

    async def ready(self, timeout_s: float = 30.0) -> None:
        """Wait until the pool is full (benchmarks use this; normal callers need not)."""
        if self.pool:
            await self.pool.wait_full(timeout_s)

    async def run(self, command: str, on_output: OutputCallback, timeout_s: float | None = None) -> RunResult:
        started = time.monotonic()
        if self.pool is None:
            return RunResult(None, 0.0, error="the docker sandbox is not started")
        timeout = self.spec.limits.timeout_s if timeout_s is None else timeout_s
        try:
            warm = await self.pool.take()
        except Exception as exc:
            self.pool.flush()
            return RunResult(None, time.monotonic() - started, error=f"no sandbox container: {_one_line(exc)}")
        state: dict = {"truncated": False, "frames": _Frames()}
        try:
            trailer = await asyncio.wait_for(self._converse(warm, command, on_output, state), timeout)
        except asyncio.TimeoutError:
            await self._kill(warm)
            return RunResult(None, time.monotonic() - started, timed_out=True, truncated=state["truncated"])
        except asyncio.CancelledError:
            self.pool.spawn(self._kill(warm))
            raise
        except Exception as exc:
            self.pool.flush()
            self.pool.spawn(self._kill(warm))
            engine = ("the Docker engine stopped answering" if not await self._engine_answers()
                      else "lost the sandbox container")
            return RunResult(None, time.monotonic() - started, truncated=state["truncated"],
                             error=f"{engine} during the run ({_one_line(exc)})")
        duration = time.monotonic() - started
        if trailer is None:  # the stream ended without a trailer: ask the engine what happened
            return await self._without_trailer(warm, started, state)
        code = int(trailer["code"])
        self.pool.spawn(self._confirm(warm, code))
        return RunResult(code, duration, truncated=state["truncated"] or bool(trailer.get("truncated")))

    async def _converse(self, warm, command: str, on_output: OutputCallback, state: dict) -> dict | None:
        loop = asyncio.get_running_loop()
        cap = self.spec.limits.output_bytes
        request = json.dumps({"cmd": command, "cap": cap}).encode()
        await loop.sock_sendall(warm.sock, struct.pack(">I", len(request)) + request)
        frames, seen = state["frames"], 0
        decoders = {s: codecs.getincrementaldecoder("utf-8")("replace") for s in STREAMS.values()}
        while True:
            data = await loop.sock_recv(warm.sock, 262144)
            if not data:
                return None
            for tag, payload in frames.feed(data):
                if tag == b"X":
                    for stream, decoder in decoders.items():
                        tail = decoder.decode(b"", final=True)
                        if tail:
                            on_output(stream, sanitize(tail))
                    return json.loads(payload)
                if tag not in STREAMS:
                    continue
                room = cap - seen
                if len(payload) > room:  # the supervisor caps too; this is the host's own backstop
                    payload, state["truncated"] = payload[:room], True
                seen += len(payload)
                text = decoders[STREAMS[tag]].decode(payload)
                if text:
                    on_output(STREAMS[tag], sanitize(text))
                if seen >= cap and state["truncated"]:
                    await self._kill(warm)
                    return {"code": 137, "truncated": True}

    async def _engine_answers(self) -> bool:
        try:
            await asyncio.wait_for(asyncio.to_thread(self.client.ping), 5)
            return True
        except Exception:
            return False

    async def _kill(self, warm) -> None:
        warm.close_socket()
        await asyncio.to_thread(docker_pool.remove_quietly, self.client, warm.id)

    async def _confirm(self, warm, code: int) -> None:
        problem = await asyncio.to_thread(docker_pool.finish, self.client, warm, code)
        if problem:
            self.confirm_problems.append(problem)
            log.warning("docker sandbox: %s", problem)

    async def _without_trailer(self, warm, started: float, state: dict) -> RunResult:
        """No trailer: the engine's view decides (supervisor killed, e.g. out of memory) or we report it."""
        truncated = state["truncated"]
        try:
            attrs = await asyncio.to_thread(_state_after_exit, warm.container)
        except Exception as exc:
            self.pool.flush()
            self.pool.spawn(self._kill(warm))
            return RunResult(None, time.monotonic() - started, truncated=truncated,
                             error=f"the Docker engine stopped answering during the run ({_one_line(exc)})")
        self.pool.spawn(self._kill(warm))
        code = attrs.get("ExitCode")
        if attrs.get("Running") or not (attrs.get("OOMKilled") or code == 137):
            said = bytes(state["frames"].supervisor_stderr).decode(errors="replace").strip().splitlines()
            detail = f": {sanitize(said[-1], keep_colour=False)[:200]}" if said else ""
            return RunResult(None, time.monotonic() - started, truncated=truncated,
                             error=f"the sandbox supervisor ended without an exit code (container exit {code}){detail}")
        return RunResult(code, time.monotonic() - started, truncated=truncated)  # killed, e.g. out of memory

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
        if self.client is not None:
            await asyncio.to_thread(self.client.close)
        self.pool = None
        self.client = None


def _state_after_exit(container, wait_s: float = 2.0) -> dict:
    """The container's State once it stops (or after wait_s); raises when the engine does not answer."""
    deadline = time.monotonic() + wait_s
    while True:
        container.reload()
        state = container.attrs["State"]
        if not state.get("Running") or time.monotonic() > deadline:
            return state
        time.sleep(0.05)
