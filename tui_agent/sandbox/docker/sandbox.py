"""DockerSandbox: each run in a fresh pre-started hardened container, framed by an in-container supervisor."""

from __future__ import annotations

import asyncio
import codecs
import json
import logging
import time
from dataclasses import replace
from pathlib import Path

from tui_agent.sandbox.docker import channel, engine_probe, host_supervisor
from tui_agent.sandbox.docker import engine as engines
from tui_agent.sandbox.docker import ours, owners
from tui_agent.sandbox.docker import pool as docker_pool
from tui_agent.sandbox.base import OutputCallback, RunResult, SandboxSpec, SandboxUnavailable
from tui_agent.sandbox.docker.frames import Frames
from tui_agent.sandbox.docker.image import DEFAULT_IMAGE
from tui_agent.sandbox.docker.shipping import ShippedWorkspace
from tui_agent.sanitize import sanitize
from tui_agent.workspace import bytecode

log = logging.getLogger(__name__)
STREAMS = {b"O": "stdout", b"E": "stderr"}


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


class DockerSandbox:
    """The Sandbox protocol on a Docker engine (see DESIGN.md, "Sandbox defaults")."""

    name = "docker"

    def __init__(self, spec: SandboxSpec, pool_size: int = 2):
        self.spec = spec
        self.engine: engines.Engine = spec.engine or self.default_engine(spec.runtime)
        self.runtime = spec.runtime or self.engine.runtime
        # gVisor (2022) lets the child write to /proc/1/fd/1, so a trailer can be forged there: under any
        # non-default runtime the host reads to the end of the stream and the engine's exit status decides.
        self.engine_decides = bool(self.runtime)
        self.pool_size = pool_size
        self.client = None
        self.pool: docker_pool.Pool | None = None
        self.shipped: ShippedWorkspace | None = None  # remote engines: the workspace goes through the API
        self.confirm_problems: list[str] = []  # engine exit statuses that did not match a trailer
        self.owner_record: Path | None = None  # owners.record(): what a `kill -9` of this process leaves is found

    @staticmethod
    def default_engine(runtime: str | None = None) -> engines.Engine:
        return engines.from_env(runtime)

    @classmethod
    def probe(cls, spec: SandboxSpec | None = None) -> str | None:
        engine = spec.engine if spec and spec.engine else cls.default_engine(spec.runtime if spec else None)
        runtime = (spec.runtime if spec else None) or engine.runtime
        return engine_probe.problem(engine, spec.image if spec else DEFAULT_IMAGE, runtime)

    def _adapt(self, config: dict) -> dict:
        config = {**config, **self.engine.container_options(self.runtime, self.spec.limits.pids)}
        return self.shipped.adapt(config) if self.shipped else config

    async def start(self) -> None:
        if self.pool is not None:
            return
        problem = await asyncio.to_thread(self.probe, self.spec)
        if problem:
            raise SandboxUnavailable(problem)
        await asyncio.to_thread(host_supervisor.ensure)  # built once (gcc -static), then from the cache
        if not self.spec.workspace.is_dir():
            raise SandboxUnavailable(f"workspace {self.spec.workspace} is not a directory")
        try:
            self.owner_record = await asyncio.to_thread(owners.record, self.engine)  # before any container
            self.client = await asyncio.to_thread(self.engine.client, 30)
            await asyncio.to_thread(ours.remove_leftovers, self.client)
            if self.engine.ships:
                self.shipped = ShippedWorkspace(self.client, self.spec, self.engine.url)
                await asyncio.to_thread(self.shipped.start, self._adapt)
            self.pool = docker_pool.Pool(self.client, self.spec, self.pool_size, self._adapt)
            first = await asyncio.to_thread(docker_pool.create_warm, self.client, self.spec, self.pool.created,
                                            self._adapt)
            self.pool.ready.append(first)
        except Exception as exc:
            await self.close()
            where = self.engine.url
            raise SandboxUnavailable(f"cannot start a sandbox container on {where}: {_one_line(exc)}") from exc
        self.pool.refill()

    async def ready(self, timeout_s: float = 30.0) -> None:
        """Wait until the pool is full (benchmarks use this; normal callers need not)."""
        if self.pool:
            await self.pool.wait_full(timeout_s)

    async def run(self, command: str, on_output: OutputCallback, timeout_s: float | None = None) -> RunResult:
        if "\0" in command:
            return RunResult(None, 0.0, error="the command contains a NUL byte")
        bytecode.drop_stale(self.spec.workspace)  # before the workspace goes anywhere
        if self.shipped is None or self.pool is None:
            return await self._run(command, on_output, timeout_s)
        started = time.monotonic()
        try:  # the workspace goes over first, only what changed since the last run
            await asyncio.to_thread(self.shipped.push)
        except Exception as exc:
            return RunResult(None, time.monotonic() - started, error=await self._lost("shipping the workspace", exc))
        result = await self._run(command, on_output, timeout_s)
        # Not waiting for the container to exit: the supervisor killed every process before its trailer, and a
        # write still in flight then lands in the volume and comes back at the next sync, as it would have landed
        # in a bind-mounted folder after the check. (Waiting costs about 80 ms per check on a busy machine.)
        try:
            await asyncio.to_thread(self.shipped.pull)
        except Exception as exc:
            result = replace(result, error=result.error or await self._lost("bringing the workspace back", exc))
        return replace(result, duration_s=time.monotonic() - started)

    async def _lost(self, doing: str, exc: BaseException) -> str:
        if not await self._engine_answers():
            return f"{self.engine.label} stopped answering while {doing} ({_one_line(exc)})"
        return f"failed {doing} on {self.engine.url}: {_one_line(exc)}"

    async def _run(self, command: str, on_output: OutputCallback, timeout_s: float | None) -> RunResult:
        started = time.monotonic()
        if self.pool is None:
            return RunResult(None, 0.0, error="the docker sandbox is not started")
        timeout = self.spec.limits.timeout_s if timeout_s is None else timeout_s
        try:
            warm = await self.pool.take()
        except Exception as exc:
            self.pool.flush()
            return RunResult(None, time.monotonic() - started, error=f"no sandbox container: {_one_line(exc)}")
        try:
            return await self._supervised(warm, command, on_output, timeout, started)
        finally:
            self.pool.refill()

    async def _supervised(self, warm, command: str, on_output: OutputCallback, timeout: float,
                          started: float) -> RunResult:
        assert self.pool is not None
        state: dict = {"truncated": False, "frames": Frames()}
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
            engine = (f"{self.engine.label} stopped answering" if not await self._engine_answers()
                      else "lost the sandbox container")
            return RunResult(None, time.monotonic() - started, truncated=state["truncated"],
                             error=f"{engine} during the run ({_one_line(exc)})")
        if trailer is None:  # the stream ended without a trailer: ask the engine what happened
            return await self._without_trailer(warm, started, state)
        truncated = state["truncated"] or bool(trailer.get("truncated"))
        if trailer.get("killed"):  # by us, at the output cap: the container is gone already
            return RunResult(137, time.monotonic() - started, truncated=truncated)
        if self.engine_decides:
            return await self._engine_code(warm, started, trailer, truncated)
        code = int(trailer["code"])
        self.pool.spawn(self._confirm(warm, code))
        return RunResult(code, time.monotonic() - started, truncated=truncated)

    async def _engine_code(self, warm, started: float, trailer: dict, truncated: bool) -> RunResult:
        """The engine's exit status is the exit code; a trailer that disagrees was forged by the checked code."""
        try:
            status = await asyncio.to_thread(lambda: warm.container.wait(timeout=10).get("StatusCode"))
        except Exception as exc:
            return RunResult(None, time.monotonic() - started, truncated=truncated,
                             error=f"{self.engine.label} stopped answering during the run ({_one_line(exc)})")
        finally:
            self.pool.spawn(self._kill(warm))
        if not isinstance(trailer.get("code"), int) or trailer["code"] & 0xFF != status:
            self.confirm_problems.append(f"engine exit status {status} differs from the trailer's {trailer}")
            log.warning("docker sandbox: a trailer was forged (engine exit status %s)", status)
        return RunResult(status, time.monotonic() - started, truncated=truncated)

    async def _converse(self, warm, command: str, on_output: OutputCallback, state: dict) -> dict | None:
        cap = self.spec.limits.output_bytes
        await channel.send_all(warm.sock, host_supervisor.request(command, docker_pool.child_env(self.spec), cap))
        frames, seen, received = state["frames"], 0, 0
        decoders = {s: codecs.getincrementaldecoder("utf-8")("replace") for s in STREAMS.values()}
        while True:
            data = await channel.recv(warm.sock, 262144)
            if not data:
                return state.get("trailer")
            received += len(data)
            if received > 2 * cap + (1 << 20):  # framing that never completes (forged frames): the host's cap
                await self._kill(warm)
                return {"code": 137, "truncated": True, "killed": True}
            for tag, payload in frames.feed(data):
                if tag == b"X":
                    for stream, decoder in decoders.items():
                        tail = decoder.decode(b"", final=True)
                        if tail:
                            on_output(stream, sanitize(tail))
                    if not self.engine_decides:
                        return json.loads(payload)
                    state["trailer"] = _parsed(payload)  # maybe forged: read on to the end of the stream
                    continue
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
                    return {"code": 137, "truncated": True, "killed": True}

    async def _engine_answers(self) -> bool:
        try:
            await asyncio.wait_for(asyncio.to_thread(self.client.ping), 5)
            return True
        except Exception:
            return False

    async def _kill(self, warm, wait_s: float = 5.0) -> None:
        """Close the stream and remove the container; past wait_s the removal goes on in the background (gVisor
        can take the engine's whole API timeout to tear down a sandbox full of processes)."""
        warm.close_socket()
        removal = self.pool.spawn(asyncio.to_thread(ours.remove_quietly, self.client, warm.id))
        await asyncio.wait([removal], timeout=wait_s)

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
                             error=f"{self.engine.label} stopped answering during the run ({_one_line(exc)})")
        self.pool.spawn(self._kill(warm))
        code = attrs.get("ExitCode")
        limits = attrs.get("OOMKilled") or code == 137 or code == engines.LIMIT_DEATHS.get(self.runtime)
        if attrs.get("Running") or not limits:
            said = bytes(state["frames"].supervisor_stderr).decode(errors="replace").strip().splitlines()
            detail = f": {sanitize(said[-1], keep_colour=False)[:200]}" if said else ""
            return RunResult(None, time.monotonic() - started, truncated=truncated,
                             error=f"the sandbox supervisor ended without an exit code (container exit {code}){detail}")
        return RunResult(code, time.monotonic() - started, truncated=truncated)  # killed, e.g. out of memory

    async def close(self) -> None:
        left = False
        if self.pool is not None:
            await self.pool.close()
            left = bool(docker_pool.still_ours(self.pool.created))
        if self.shipped is not None:
            await asyncio.to_thread(self.shipped.close)
            self.shipped = None
        if self.client is not None:
            await asyncio.to_thread(self.client.close)
        self.pool = None
        self.client = None
        if not left:  # else the record stays: the next start removes what the engine refused to remove now
            owners.forget(self.owner_record)
            self.owner_record = None


def _parsed(payload: bytes) -> dict:
    try:
        trailer = json.loads(payload)
    except ValueError:
        return {}
    return trailer if isinstance(trailer, dict) else {}


def _state_after_exit(container, wait_s: float = 2.0) -> dict:
    """The container's State once it stops (or after wait_s); raises when the engine does not answer."""
    deadline = time.monotonic() + wait_s
    while True:
        container.reload()
        state = container.attrs["State"]
        if not state.get("Running") or time.monotonic() > deadline:
            return state
        time.sleep(0.05)
