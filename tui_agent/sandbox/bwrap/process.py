"""One bwrap sandbox process: launched ahead of time, handed its command on stdin, waited for, killed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

from tui_agent.sandbox.base import OutputCallback, RunResult
from tui_agent.sandbox.bwrap import cgroup
from tui_agent.sandbox.bwrap.output import OutputProtocol, StatusProtocol


def inner(fsize_bytes: int, sentinel: str) -> list[str]:
    """The sandbox's first process: no core dumps, no file beyond `fsize_bytes` (ulimit counts 512-byte
    blocks); it reads the command from stdin up to a `sentinel` line, writes the started-marker (a NUL on
    stderr), then runs the command exactly as `/bin/sh -c command` would, with stdin from /dev/null."""
    script = (f'ulimit -c 0 && ulimit -f {fsize_bytes // 512} || exit 125\n'
              'c= ok=\n'
              'while IFS= read -r l; do if [ "$l" = "$0" ]; then ok=1; break; fi; c="$c$l\n"; done\n'
              '[ -n "$ok" ] || exit 125\n'
              'printf "\\0" >&2 && exec /bin/sh -c "$c" </dev/null\n')
    return ["/bin/sh", "-c", script, sentinel]


class SandboxProcess:
    """A sandbox started before its command is known (the setup is off the critical path of a run)."""

    def __init__(self, cap: int, cg: cgroup.RunCgroup | None, workspace_id: tuple[int, int] | None) -> None:
        self.out = OutputProtocol(None, cap)
        self.cg = cg
        self.workspace_id = workspace_id  # (st_dev, st_ino) of the workspace when bwrap bound it
        self.finished = asyncio.Event()
        self.transport: asyncio.SubprocessTransport | None = None
        self.status: StatusProtocol | None = None
        self.status_transport: asyncio.ReadTransport | None = None
        self.init: tuple[int, str | None] | None = None  # the namespace's init: pid, start time
        self.launch_error: str | None = None
        self.killed = False

    async def launch(self, launcher: list[str], inner_argv: list[str], seccomp: bytes | None) -> None:
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
        try:
            self.status_transport, self.status = await loop.connect_read_pipe(
                lambda: StatusProtocol(self._on_child), os.fdopen(read_fd, "rb", 0))
            self.transport, _ = await loop.subprocess_exec(
                lambda: self.out, *argv, "--", *inner_argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, env={}, cwd="/", pass_fds=passed, start_new_session=True)
        except OSError as exc:
            self.launch_error = f"could not launch bwrap: {exc}"
        finally:
            for fd in passed:
                os.close(fd)

    @property
    def alive(self) -> bool:
        return self.launch_error is None and self.transport is not None and self.transport.get_returncode() is None

    async def execute(self, command: str, sentinel: str, on_output: OutputCallback, timeout: float,
                      began: float) -> RunResult:
        if self.launch_error:
            return RunResult(None, time.monotonic() - began, error=self.launch_error)
        self.out.on_output = on_output
        stdin = self.transport.get_pipe_transport(0)
        timed_out = False
        stop = asyncio.ensure_future(self.out.must_kill.wait())
        try:
            if stdin is not None and not stdin.is_closing():
                stdin.write(f"{command}\n{sentinel}\n".encode())
                stdin.close()  # flushed, then closed
            # the output is whole once both pipes close; bwrap's own exit is reaped off the critical path
            await asyncio.wait({self.out.drained, stop}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if not self.out.drained.done():
                timed_out = not stop.done()
                self.kill()
                await _bounded(self.out.closed, 5.0)
            await _bounded(self.status.closed, 2.0)
        except BaseException:  # cancelled: nothing may survive us
            self.kill()
            raise
        finally:
            stop.cancel()
            if self.status_transport is not None:
                self.status_transport.close()
            # bwrap itself is closed once reaped (closing it earlier would reap it behind asyncio's back)
            self.out.closed.add_done_callback(lambda _: self.close_transports())
            self.out.flush()
        duration = time.monotonic() - began
        if not self.out.started:
            why = self.out.noise_line() or f"exit {self.transport.get_returncode()}"
            error = (f"bwrap did not start the sandbox within {timeout:g} s" if timed_out
                     else f"bwrap could not start the sandbox: {why}")
            return RunResult(None, duration, timed_out=timed_out, error=error)
        code = self.status.exit_code if self.status.exit_code is not None else self.transport.get_returncode()
        return RunResult(None if self.killed else code, duration, timed_out=timed_out, truncated=self.out.truncated)

    def close_transports(self) -> None:
        for transport in (self.transport, self.status_transport):
            if transport is not None:
                transport.close()

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
        if self.out.callback_error is None and self.out.on_output is not None:
            try:
                self.out.on_output("stderr", line + "\n")
            except Exception as exc:
                self.out.callback_error = exc

    def init_gone(self) -> bool:
        """Has the namespace's init exited? The kernel then has killed every process of the namespace and waited
        for each to exit (zap_pid_ns_processes) before letting init go."""
        if self.init is None:
            return False
        pid, start = self.init
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return True
        return fields[0] in ("Z", "X") or fields[19] != start

    async def init_ends(self, within_s: float = 0.05) -> bool:
        """init_gone(), or killed and gone within `within_s` (bwrap reports the exit code before its init exits)."""
        return self.init_gone() or (self.init is not None and await _wait_gone(*self.init, timeout_s=within_s))

    async def clean_up(self) -> bool:
        """True once no process of the sandbox is left (its cgroup is empty, or the namespace's init is gone)."""
        try:
            if self.cg is not None:
                return await self.cg.destroy()
            return self.init is None or await _wait_gone(*self.init)
        finally:
            self.finished.set()

    async def discard(self) -> None:
        """Kill an unused sandbox and clean up after it."""
        self.kill()
        # let asyncio reap it first: a transport dropped with its child unreaped leaves that child to the next
        # subprocess.run(), which reaps it behind asyncio's back ("Unknown child process pid ...")
        await _bounded(self.out.closed, 5.0)
        self.close_transports()
        await self.clean_up()


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
