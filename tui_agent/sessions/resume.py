"""What a resume or a fork starts from: a recorded session's whole iterations (or those up to the fork point) and
its start record."""

from __future__ import annotations

from pathlib import Path

from tui_agent.config import ConfigError
from tui_agent.events import Event, IterationFinished, SessionStarted
from tui_agent.sessions.recorder import effective, read_events, whole_iterations


def start_of(history: list[Event]) -> SessionStarted:
    start = history[0]
    if not isinstance(start, SessionStarted):
        raise ConfigError("the session does not begin with its start record")
    return start


def resumed_from(session_dir: Path, fork_at: int | None) -> list[Event]:
    """The recorded events a resume (or a fork at iteration `fork_at`) starts from."""
    if fork_at is None:
        history = whole_iterations(read_events(session_dir))
        if not history:
            raise ConfigError(f"{session_dir}: no whole iteration was recorded; start a new run instead")
        return history
    events = effective(read_events(session_dir))
    ends = [i for i, e in enumerate(events) if isinstance(e, IterationFinished) and e.iteration == fork_at]
    if not ends:
        done = [e.iteration for e in events if isinstance(e, IterationFinished)]
        raise ConfigError(f"{session_dir.name} has no iteration {fork_at} to fork from (it has {done or 'none'})")
    return events[: ends[0] + 1]
