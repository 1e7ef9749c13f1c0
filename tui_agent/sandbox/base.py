"""The Sandbox protocol every backend implements, its limits and its result."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

# on_output(stream, text): stream is "stdout" or "stderr"; text is already sanitised
OutputCallback = Callable[[str, str], None]

# A project's tests that make a git repository and commit to it (version tools, git helpers) need an identity; the
# person's own ~/.gitconfig never enters the sandbox, so every check gets a neutral one
GIT_IDENTITY = {"GIT_AUTHOR_NAME": "tui-agent sandbox", "GIT_AUTHOR_EMAIL": "sandbox@tui-agent.invalid",
                "GIT_COMMITTER_NAME": "tui-agent sandbox", "GIT_COMMITTER_EMAIL": "sandbox@tui-agent.invalid"}


class SandboxUnavailable(RuntimeError):
    """The backend cannot run here (no engine, no image, no bwrap); the message says what to do."""


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 120.0  # wall clock; the whole process tree is killed after it
    memory_mb: int = 1024  # RAM; swap is not allowed on top
    pids: int = 256
    cpus: float = 1.0
    tmpfs_mb: int = 256  # size cap of /tmp inside the sandbox
    workspace_mb: int = 1024  # size cap of what the checked code may write to the workspace
    output_bytes: int = 4_000_000  # output streamed beyond this is dropped and the run flagged
    uid: int = 1000  # the unprivileged user inside the sandbox
    gid: int = 1000


@dataclass(frozen=True)
class RunResult:
    exit_code: int | None  # None when the sandbox could not say (killed, engine gone)
    duration_s: float
    timed_out: bool = False
    truncated: bool = False  # output hit Limits.output_bytes
    error: str | None = None  # the sandbox itself failed; not the checked code's failure

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out and self.exit_code == 0


class Sandbox(Protocol):
    """Runs a shell command with the workspace mounted read-write at /workspace (its cwd)."""

    name: str

    async def start(self) -> None:
        """Prepare (pool, image check); raise SandboxUnavailable with a one-line reason."""

    async def run(self, command: str, on_output: OutputCallback, timeout_s: float | None = None) -> RunResult:
        """Run `command` (a shell string) in a fresh sandbox; stream sanitised output."""

    async def close(self) -> None:
        """Stop everything this sandbox started; nothing is left running."""


@dataclass(frozen=True)
class SandboxSpec:
    workspace: Path
    limits: Limits = Limits()
    image: str = "tui-agent-sandbox:latest"
    env: tuple = ()  # extra (NAME, value) environment variables, after the backend's own (a project environment's PATH)
    binds: tuple = ()  # extra (host path, sandbox path, "ro" | "rw") binds, e.g. a project environment's prefix
    engine: Any = None  # container backends: an Engine (sandbox/docker/engine.py); None: the backend's default
    runtime: str | None = None  # container backends: the OCI runtime, e.g. "runsc" (gVisor); None: the engine's
