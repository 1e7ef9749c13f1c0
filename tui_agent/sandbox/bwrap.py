"""The bubblewrap sandbox: a fresh set of namespaces per run, as an unprivileged uid, under cgroup limits."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from dataclasses import replace
from pathlib import Path

from tui_agent.sandbox import cgroup
from tui_agent.sandbox.base import OutputCallback, RunResult, SandboxSpec, SandboxUnavailable
from tui_agent.sandbox.bwrap_io import OutputProtocol, StatusProtocol, inner
from tui_agent.sandbox.seccomp import denylist_program
from tui_agent.sandbox.bwrap_setup import Host, Stage, host_tools, sandbox_args

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
        self._inner: list[str] = []  # the sandbox's first process, before the command
        self._seccomp = denylist_program()
        self._active: dict[int, tuple[asyncio.Event, object]] = {}  # run id -> (finished, kill)
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
        if self._closed:
            raise SandboxUnavailable("this bwrap sandbox was closed; create a new one")
        if self._host is not None:
            return
        host = await asyncio.to_thread(host_tools)
        if isinstance(host, str):
            raise SandboxUnavailable(host)
        workspace = Path(self.spec.workspace)
        if not workspace.is_dir():
            raise SandboxUnavailable(f"workspace {workspace} is not a folder")
        await asyncio.to_thread(cgroup.hierarchies)
        cgroup.remove_stale()
        self._stage = await asyncio.to_thread(Stage.create, host, workspace.resolve(), self.spec.limits)
        self._host = host
        self._fixed = self._launcher_tail(host, self._stage)
        # a file may not outgrow the larger folder cap (+1 MB so that the tmpfs caps say ENOSPC first)
        self._inner = inner((max(self.spec.limits.workspace_mb, self.spec.limits.tmpfs_mb) + 1) << 20)

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
        return [*rl, *drop, host.bwrap, *sandbox_args(host, stage, limits)]

    async def run(self, command: str, on_output: OutputCallback, timeout_s: float | None = None) -> RunResult:
        began = time.monotonic()
        try:
            await self.start()
            self._stage.refresh()
        except SandboxUnavailable as exc:
            return RunResult(None, time.monotonic() - began, error=str(exc))
        limits = self.spec.limits
        timeout = limits.timeout_s if timeout_s is None else timeout_s
        cg = cgroup.RunCgroup.create(limits.memory_mb, limits.pids, limits.cpus) if cgroup.hierarchies() else None
        head = ["/bin/sh", "-c", _JOIN, "tui-agent-launch", *cg.procs_files, "--"] if cg and cg.dirs else []
        run = _Run(OutputProtocol(on_output, limits.output_bytes), cg)
        self._active[id(run)] = (run.finished, run.kill)
        try:
            result = await run.go([*head, *self._fixed], [*self._inner, command], timeout, began, self._seccomp)
            if cg is not None:
                for note in cg.notes(limits.memory_mb, limits.pids):
                    run.notify(f"[sandbox] {note}")
        finally:
            self._active.pop(id(run), None)
            gone = await run.clean_up()
        if run.out.callback_error is not None:
            raise run.out.callback_error
        if not gone:  # should not happen: the pid namespace and the cgroup were both told to die
            return replace(result, exit_code=None, error="could not kill every sandboxed process")
        return result

    async def close(self) -> None:
        self._closed = True
        for finished, kill in list(self._active.values()):
            kill()
        for finished, _ in list(self._active.values()):
            await _bounded(asyncio.ensure_future(finished.wait()), 10.0)
        await cgroup.wait_removed()
        if self._stage is not None:
            await asyncio.to_thread(self._stage.remove)
            self._stage = None


class _Run:
    """One command in one fresh sandbox: launch, wait (timeout, output cap), kill, confirm nothing is left."""

    def __init__(self, out: OutputProtocol, cg: cgroup.RunCgroup | None) -> None:
        self.out, self.cg = out, cg
        self.finished = asyncio.Event()
        self.transport: asyncio.SubprocessTransport | None = None
        self.status: StatusProtocol | None = None
        self.init: tuple[int, str | None] | None = None  # the namespace's init: pid, start time
        self.killed = False

    async def go(self, launcher: list[str], command: list[str], timeout: float, began: float,
                 seccomp: bytes | None) -> RunResult:
        loop = asyncio.get_running_loop()
        read_fd, write_fd = os.pipe()
        passed = [write_fd]
        argv = [*launcher, "--json-status-fd", str(write_fd)]
        if seccomp is not None:  # a pipe holds it whole (well under 64 KiB); bwrap reads it to EOF
            filter_fd, filter_w = os.pipe()
            os.write(filter_w, seccomp)
            os.close(filter_w)
            passed.append(filter_fd)
            argv += ["--seccomp", str(filter_fd)]
        argv += ["--", *command]
        status_transport = None
        try:
            status_transport, self.status = await loop.connect_read_pipe(
                lambda: StatusProtocol(self._on_child), os.fdopen(read_fd, "rb", 0))
            self.transport, _ = await loop.subprocess_exec(
                lambda: self.out, *argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, env={}, cwd="/", pass_fds=passed, start_new_session=True)
        except OSError as exc:
            if status_transport is not None:
                status_transport.close()
            return RunResult(None, time.monotonic() - began, error=f"could not launch bwrap: {exc}")
        finally:
            for fd in passed:
                os.close(fd)
        timed_out = False
        stop = asyncio.ensure_future(self.out.must_kill.wait())
        try:
            await asyncio.wait({self.out.closed, stop}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if not self.out.closed.done():
                timed_out = not stop.done()
                self.kill()
                await _bounded(self.out.closed, 5.0)
            await _bounded(self.status.closed, 2.0)
        except BaseException:  # cancelled: nothing may survive us
            self.kill()
            raise
        finally:
            stop.cancel()
            self.transport.close()
            status_transport.close()
            self.out.flush()
        duration = time.monotonic() - began
        if not self.out.started:
            why = self.out.noise_line() or f"exit {self.transport.get_returncode()}"
            error = (f"bwrap did not start the sandbox within {timeout:g} s" if timed_out
                     else f"bwrap could not start the sandbox: {why}")
            return RunResult(None, duration, timed_out=timed_out, error=error)
        code = self.status.exit_code if self.status.exit_code is not None else self.transport.get_returncode()
        return RunResult(None if self.killed else code, duration, timed_out=timed_out, truncated=self.out.truncated)

    def _on_child(self, pid: int) -> None:
        self.init = (pid, _start_time(pid))

    def kill(self) -> None:
        """SIGKILL everything: the cgroup's members, bwrap's group and the namespace's init (whose death makes
        the kernel kill every process of the pid namespace)."""
        self.killed = True
        if self.cg is not None:
            self.cg.kill_all()
        if self.transport is not None and self.transport.get_returncode() is None:
            for target, how in ((self.transport.get_pid(), os.killpg), (self.init and self.init[0], os.kill)):
                try:
                    if target:
                        how(target, signal.SIGKILL)
                except OSError:
                    pass

    def notify(self, line: str) -> None:
        if self.out.callback_error is None:
            try:
                self.out.on_output("stderr", line + "\n")
            except Exception as exc:
                self.out.callback_error = exc

    async def clean_up(self) -> bool:
        """True once no process of the run is left (the cgroup is empty, or the namespace's init is gone)."""
        try:
            if self.cg is not None:
                return await self.cg.destroy()
            return self.init is None or await _wait_gone(*self.init)
        finally:
            self.finished.set()


async def _bounded(awaitable, seconds: float) -> None:
    try:
        await asyncio.wait_for(asyncio.shield(awaitable), seconds)
    except (asyncio.TimeoutError, asyncio.CancelledError):
        if not asyncio.current_task().cancelling():
            return
        raise


def _start_time(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


async def _wait_gone(pid: int, start: str | None, timeout_s: float = 5.0) -> bool:
    """Kill the namespace's init until it is gone or a zombie: the kernel then has killed all it held."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return True
        if fields[0] in ("Z", "X") or fields[19] != start:
            return True
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
        await asyncio.sleep(0.001)
    return False
