"""What a loop is given: its task and limits (LoopConfig) and what it works with (LoopParts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from tui_agent.config import Criteria, Settings
from tui_agent.events import Event
from tui_agent.models.base import Model
from tui_agent.sandbox.base import Sandbox
from tui_agent.tools.base import ToolProvider
from tui_agent.workspace.workspace import Workspace

RESUMED_OPTIONS = ("permissions", "mode", "timeout_s", "memory_mb", "max_turns", "context_tokens", "image", "env",
                   "setup", "sandbox_host", "sandbox_runtime")


@dataclass(frozen=True)
class LoopConfig:
    """The goal, the check, when to stop, and the limits of one loop."""

    goal: str
    check: str
    criteria: Criteria
    sandbox_name: str
    session_id: str = ""
    max_turns: int = 30  # model turns within one iteration
    context_tokens: int = 150_000
    timeout_s: float | None = None  # per check run
    options: dict[str, Any] = field(default_factory=dict)  # recorded in SessionStarted: the settings a resume needs
    fix_round: bool = False  # a watch round: no SessionStarted, no baseline check, no deploy offer (the watcher's)

    @classmethod
    def of(cls, settings: Settings, *, sandbox_name: str, session_id: str) -> "LoopConfig":
        return cls(settings.goal, settings.check, settings.criteria, sandbox_name, session_id, settings.max_turns,
                   settings.context_tokens, settings.timeout_s, {k: getattr(settings, k) for k in RESUMED_OPTIONS})


class Environment(Protocol):
    """The project's environment before the baseline check (environments.session.EnvironmentStep)."""

    async def prepare(self, emit: Callable[[Event], None], workspace: Any = None) -> None:
        """From the cache or built now, its events streamed; then the sandbox starts; the workspace gets the
        extension modules the build compiled."""

    def outdated(self, files: list[str]) -> Event | None:
        """An event when the agent changed one of its inputs (the environment is not rebuilt on its own)."""


@dataclass(frozen=True)
class LoopParts:
    """What the loop works with, shared by a run and its watch rounds; the built-in tools are the loop's own."""

    model: Model
    sandbox: Sandbox
    workspace: Workspace
    tools: tuple[ToolProvider, ...] = ()  # besides the built-ins: the MCP servers
    environment: Environment | None = None  # None: the project declares no environment
