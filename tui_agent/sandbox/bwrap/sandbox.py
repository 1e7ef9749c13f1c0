"""The bubblewrap sandbox: fresh namespaces per run, as an unprivileged uid, under cgroup limits, pre-started."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from dataclasses import replace
from pathlib import Path

from tui_agent.sandbox.base import OutputCallback, RunResult, SandboxSpec, SandboxUnavailable
from tui_agent.sandbox.bwrap import cgroup
from tui_agent.sandbox.bwrap.process import SandboxProcess, inner
from tui_agent.sandbox.bwrap.seccomp import denylist_program
from tui_agent.sandbox.bwrap.setup import Host, Stage, host_tools, sandbox_args
from tui_agent.workspace import bytecode

# Run by /bin/sh as root: join the run's cgroups (their cgroup.procs files come first, up to "--"), then exec the
# rest ([prlimit ->] setpriv -> bwrap), so that every process of the run is born inside the cgroups.
_JOIN = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'


class BwrapSandbox:
    """Runs each command in new namespaces with bubblewrap; see DESIGN.md "Sandbox defaults"."""

    name = "bwrap"

    def __init__(self, spec: SandboxSpec) -> None:
        self.spec = spec
        self._host: Host | None = None
        self._stage: Stage | None = None
        self._fixed: list[str] = []  # launcher tail: [prlimit ...] setpriv ... bwrap <options>
        self._inner: list[str] = []  # the sandbox's first process, which reads the command
        self._sentinel = secrets.token_hex(16)  # ends the command on the first process's stdin
        self._seccomp = denylist_program()
        self._warm: SandboxProcess | None = None  # started ahead of the next run
        self._warming: asyncio.Task | None = None
        self._active: set[SandboxProcess] = set()  # running or discarded, not yet cleaned up
        self._tasks: set[asyncio.Task] = set()  # background discards
        self._start_lock = asyncio.Lock()
        self._closed = False

    @staticmethod
    def probe(spec: SandboxSpec | None = None) -> str | None:
        host = host_tools()
        if isinstance(host, str):
            return host
        if spec is not None and not Path(spec.workspace).is_dir():
            return f"workspace {spec.workspace} is not a folder"
        return None

    async def start(self) -> None:
        async with self._start_lock:
            if self._closed:
                raise SandboxUnavailable("this bwrap sandbox was closed; create a new one")
            if self._host is None:
                await self._start()

    async def _start(self) -> None:
        host = await asyncio.to_thread(host_tools)
        if isinstance(host, str):
            raise SandboxUnavailable(host)
        workspace = Path(self.spec.workspace)
        if not workspace.is_dir():
            raise SandboxUnavailable(f"workspace {workspace} is not a folder")
        await asyncio.to_thread(cgroup.hierarchies)
        await cgroup.remove_stale()
        self._stage = await asyncio.to_thread(Stage.create, host, workspace.resolve(), self.spec.limits)
        self._host = host
        self._fixed = self._launcher_tail(host, self._stage)
        # a file may not outgrow the larger folder cap (+1 MB so that the tmpfs caps say ENOSPC first)
        self._inner = inner((max(self.spec.limits.workspace_mb, self.spec.limits.tmpfs_mb) + 1) << 20,
                            self._sentinel)
        self._warm = await self._launch()

    def _launcher_tail(self, host: Host, stage: Stage) -> list[str]:
        limits = self.spec.limits
        rl = []  # fallbacks where cgroups are missing (nproc counts per uid, AS per process: both are weaker)
        kinds = {h.controller for h in cgroup.hierarchies()}
        if "pids" not in kinds and "unified" not in kinds:
            rl.append(f"--nproc={limits.pids}")
        if "memory" not in kinds and "unified" not in kinds:
            rl.append(f"--as={limits.memory_mb * 1024 * 1024}")
        rl = [host.prlimit, *rl, "--"] if rl else []
        drop: list[str] = []
        if host.setpriv:  # bwrap and so its sandbox die with us (PDEATHSIG survives the exec of bwrap)
            drop = [host.setpriv, "--pdeathsig", "KILL", "--no-new-privs"]
            if host.root:  # bwrap then builds an unprivileged user namespace whose uid maps to limits.uid
                drop += [f"--reuid={limits.uid}", f"--regid={limits.gid}", "--clear-groups"]
            drop.append("--")
        return [*rl, *drop, host.bwrap, *sandbox_args(host, stage, limits, self.spec.env, self.spec.binds)]

    async def _launch(self) -> SandboxProcess:
        """Start a sandbox that waits for its command: cgroups, namespaces, mounts, its first shell."""
        limits = self.spec.limits
        cg = cgroup.RunCgroup.create(limits.memory_mb, limits.pids, limits.cpus) if cgroup.hierarchies() else None
        head = ["/bin/sh", "-c", _JOIN, "tui-agent-launch", *cg.procs_files, "--"] if cg and cg.dirs else []
        proc = SandboxProcess(limits.output_bytes, cg, _identity(self.spec.workspace))
        self._active.add(proc)
        await proc.launch([*head, *self._fixed], self._inner, self._seccomp)
        return proc

    async def _take(self) -> SandboxProcess:
        """The warm sandbox if it still fits (alive, same workspace folder), else a new one; then warm the next."""
        if self._warming is not None:
            await asyncio.wait([self._warming])  # never raises: a failed warm-up just leaves no warm sandbox
        proc, self._warm = self._warm, None
        if proc is not None and not (proc.alive and proc.workspace_id == _identity(self.spec.workspace)):
            self._forget(proc)
            proc = None
        if proc is None:
            proc = await self._launch()
        return proc

    async def ready(self) -> None:
        """Wait until the next sandbox is warm (benchmarks use this; normal callers need not)."""
        if self._warming is not None:
            await asyncio.wait([self._warming])

    def _warm_next(self) -> None:
        """Start the next sandbox once a run is over: launching one (a fork of this process, namespaces, mounts)
        while a check runs would compete with it for the CPU; between checks there is time to spare."""
        if self._warming is None and not self._closed:
            self._warming = asyncio.ensure_future(self._rewarm())

    async def _rewarm(self) -> None:
        try:
            if not self._closed and self._warm is None:
                self._warm = await self._launch()
        finally:
            self._warming = None

    async def _clean_up(self, proc: SandboxProcess) -> bool:
        try:
            return await proc.clean_up()
        finally:
            self._active.discard(proc)

    def _track(self, task: asyncio.Future) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _forget(self, proc: SandboxProcess) -> None:
        """Discard an unused sandbox in the background (close() waits for it)."""
        async def discard() -> None:
            try:
                await proc.discard()
            finally:
                self._active.discard(proc)
        self._track(asyncio.ensure_future(discard()))

    async def run(self, command: str, on_output: OutputCallback, timeout_s: float | None = None) -> RunResult:
        began = time.monotonic()
        if "\0" in command:
            return RunResult(None, 0.0, error="the command contains a NUL byte")
        try:
            await self.start()
            self._stage.refresh()
            bytecode.drop_stale(Path(self.spec.workspace))
        except SandboxUnavailable as exc:
            return RunResult(None, time.monotonic() - began, error=str(exc))
        limits = self.spec.limits
        timeout = limits.timeout_s if timeout_s is None else timeout_s
        proc = await self._take()
        try:
            return await self._run(proc, command, on_output, timeout, began)
        finally:
            self._warm_next()

    async def _run(self, proc: SandboxProcess, command: str, on_output: OutputCallback, timeout: float,
                   began: float) -> RunResult:
        limits = self.spec.limits
        try:
            result = await proc.execute(command, self._sentinel, on_output, timeout, began)
            if proc.cg is not None:
                for note in proc.cg.notes(limits.memory_mb, limits.pids):
                    proc.notify(f"[sandbox] {note}")
        except BaseException:
            await self._clean_up(proc)
            raise
        if await proc.init_ends():  # nothing of the run is left: the cgroup's removal goes on off the critical path
            gone = True
            self._track(asyncio.ensure_future(self._clean_up(proc)))
        else:
            gone = await self._clean_up(proc)
        if proc.out.callback_error is not None:
            raise proc.out.callback_error
        if not gone:  # should not happen: the pid namespace and the cgroup were both told to die
            return replace(result, exit_code=None, error="could not kill every sandboxed process")
        return result

    async def close(self) -> None:
        self._closed = True
        if self._warming is not None:
            await asyncio.wait([self._warming])
        for proc in list(self._active):
            proc.kill()
        warm, self._warm = self._warm, None
        if warm is not None:
            await warm.discard()
            self._active.discard(warm)
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10.0)
        for proc in list(self._active):  # running (their run() cleans up) or being discarded
            try:
                await asyncio.wait_for(proc.finished.wait(), 10.0)
            except asyncio.TimeoutError:
                pass
        self._active.clear()
        await cgroup.wait_removed()
        if self._stage is not None:
            await asyncio.to_thread(self._stage.remove)
            self._stage = None


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino
