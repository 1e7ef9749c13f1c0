"""The events of a project's environment, before the baseline check: detected, then cached or built."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tui_agent.events.record import Event

# Before the baseline check: what was detected (env_detected), then either the cached environment (env_ready,
# cached) or its build: env_step as each step begins, env_output with batches of the live log, env_ready or
# env_failed (the run then ends with outcome "invalid", exit 2).


@dataclass(frozen=True)
class EnvDetected(Event):
    type: ClassVar[str] = "env_detected"
    kind: str  # devcontainer | dockerfile | uv | pyproject | requirements | setup
    source: str  # in words, e.g. "uv.lock (uv sync --frozen)"
    inputs: tuple  # the files whose content makes the key
    backend: str
    key: str
    cached: bool
    notes: tuple = ()  # e.g. devcontainer keys that are ignored


@dataclass(frozen=True)
class EnvStep(Event):
    type: ClassVar[str] = "env_step"
    step: str  # proxy | dockerfile | python | install | pip | setup | project


@dataclass(frozen=True)
class EnvOutput(Event):
    """Lines of the build log (sanitised), several per event."""

    type: ClassVar[str] = "env_output"
    text: str


@dataclass(frozen=True)
class EnvReady(Event):
    type: ClassVar[str] = "env_ready"
    key: str
    name: str  # the image, or the prefix folder
    cached: bool
    duration_s: float
    size_mb: float


@dataclass(frozen=True)
class EnvFailed(Event):
    type: ClassVar[str] = "env_failed"
    step: str
    message: str  # one line: the step, the reason, where the full log is
    log: str


@dataclass(frozen=True)
class EnvOutdated(Event):
    """The agent changed an environment input; the environment keeps what it was built from (no network now)."""

    type: ClassVar[str] = "env_outdated"
    files: tuple
    message: str
