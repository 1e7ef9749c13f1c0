"""The events of watch mode (besides the run's own: each check of the folder, each fix round)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tui_agent.events.record import Event


# A watch session emits the run's events too: each check of the folder is CheckStarted/OutputChunk/
# CheckFinished with iteration 0, a fix attempt is an AgentLoop round (iterations 1.., ending in
# Finished), and a fix that passes is offered as DeployReady (diff against the person's folder).


@dataclass(frozen=True)
class WatchStarted(Event):
    """The folder is watched (file-system events are being received) from now on."""

    type: ClassVar[str] = "watch_started"
    session_id: str
    project: str
    check: str
    sandbox: str
    workspace: str
    auto_fix: bool
    watcher: str = "native"  # "native" (inotify and the like) or "polling"


@dataclass(frozen=True)
class ChangesSynced(Event):
    """The person's changes taken into the workspace (only these paths were copied); a check follows."""

    type: ClassVar[str] = "changes_synced"
    files: tuple  # written (new or changed)
    removed: tuple
    duration_ms: float = 0.0


@dataclass(frozen=True)
class ChangesQueued(Event):
    """Changes noticed while the check or the agent is busy: kept and taken into account afterwards."""

    type: ClassVar[str] = "changes_queued"
    paths: tuple
    reason: str


@dataclass(frozen=True)
class FixRefused(Event):
    """The person changed files the fix also changes: their version is kept and the fix dropped."""

    type: ClassVar[str] = "fix_refused"
    reason: str
    files: tuple  # the person's files that collided with the fix


@dataclass(frozen=True)
class FixRebased(Event):
    """The person changed other files than the fix's: those are taken in under the fix and the check re-runs."""

    type: ClassVar[str] = "fix_rebased"
    files: tuple  # the person's files taken in
    fix_files: tuple


@dataclass(frozen=True)
class AutoFixToggled(Event):
    type: ClassVar[str] = "auto_fix_toggled"
    on: bool


@dataclass(frozen=True)
class WatchStopped(Event):
    type: ClassVar[str] = "watch_stopped"
    reason: str
    checks: int  # how many times the check ran on a change (fix iterations not counted)
    passed: bool | None  # the last check's verdict (None: it never ran)
