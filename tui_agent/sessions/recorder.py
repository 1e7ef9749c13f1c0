"""Session files: an append-only JSONL trajectory of every event, written and fsynced per event."""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path

from tui_agent.config import ConfigError
from tui_agent.events import Event, IterationFinished, ModelDelta, OutputChunk, SessionResumed

EVENTS = "events.jsonl"
SKIPPED = (ModelDelta,)  # streamed text is recorded whole in ModelResponded


class SessionRecorder:
    """Each event is one line, written with one write() call: a killed process loses at most that line.

    Every event is fsynced, except sandbox output chunks, which are written at once and fsynced with
    the next event (so a flood of output cannot turn into a flood of fsyncs).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / EVENTS
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self.count = len(read_records(self.path))  # a resumed session goes on numbering

    def write(self, event: Event) -> None:
        if isinstance(event, SKIPPED) or self._fd < 0:
            return
        record = {"seq": self.count, "ts": round(time.time(), 6), **event.to_dict()}
        os.write(self._fd, (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode())
        self.count += 1
        if not isinstance(event, OutputChunk):
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1


def read_records(path: Path) -> list[dict]:
    """All whole records; a last line cut short by a kill is ignored."""
    records = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.endswith("\n"):
                break  # the event being written when the process died
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                raise ConfigError(f"{path}:{number}: not a session record (invalid JSON)") from None
    return records


def read_events(path: Path) -> list[Event]:
    events = []
    for record in read_records(events_file(path)):
        try:
            events.append(Event.from_dict(record))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{path}: record {record.get('seq')}: {exc}") from None
    return events


def effective(events: list[Event]) -> list[Event]:
    """The session as it stands: what a resume cut away (a partial iteration before it) is dropped."""
    kept: list[Event] = []
    for event in events:
        if isinstance(event, SessionResumed):
            ends = [i for i, e in enumerate(kept)
                    if isinstance(e, IterationFinished) and e.iteration == event.iteration]
            del kept[ends[-1] + 1 if ends else len(kept):]
        kept.append(event)
    return kept


def whole_iterations(events: list[Event]) -> list[Event]:
    """The effective events up to the end of the last whole iteration (what a resume starts from)."""
    kept = effective(events)
    ends = [i for i, e in enumerate(kept) if isinstance(e, IterationFinished)]
    return kept[: ends[-1] + 1] if ends else []


def new_session_dir(root: Path, project: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"{stamp}-{Path(project).resolve().name or 'root'}-{secrets.token_hex(2)}"
    path = Path(root).expanduser() / name
    path.mkdir(parents=True)
    return path


def events_file(spec: Path | str) -> Path:
    path = Path(spec)
    return path / EVENTS if path.is_dir() else path


def find_session(spec: str, root: Path) -> Path:
    """A session directory from a path (directory or events.jsonl) or a name under the sessions root."""
    for candidate in (Path(spec), Path(root).expanduser() / spec):
        if candidate.is_file() and candidate.name == EVENTS:
            return candidate.parent
        if (candidate / EVENTS).is_file():
            return candidate
    if Path(spec).is_file():
        return Path(spec).parent  # a recorded events file under another name
    raise ConfigError(f"no session at {spec!r} (give a session folder, its {EVENTS}, or a name under {root})")
