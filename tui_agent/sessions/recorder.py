"""Session files: an append-only JSONL trajectory of every event, written and fsynced per event."""

from __future__ import annotations

import errno
import json
import os
import secrets
import time
from pathlib import Path

from tui_agent.config import ConfigError
from tui_agent.events import Event, IterationFinished, ModelDelta, OutputChunk, SessionResumed

EVENTS = "events.jsonl"
SKIPPED = (ModelDelta,)  # streamed text is recorded whole in ModelResponded


class Records(list):
    """The whole records of a session file; `damaged` says which line made reading stop, if one did."""

    damaged: str | None = None
    whole_bytes: int = 0  # where the whole records end in the file


class SessionRecorder:
    """Each event is one line, written with one write() call: a killed process loses at most that line.

    Every event is fsynced, except sandbox output chunks, which are written at once and fsynced with
    the next event (so a flood of output cannot turn into a flood of fsyncs). A resumed file whose end is
    damaged (a line cut short by a kill, or not JSON) has that end set aside in events.jsonl.damaged first, so
    new records never follow a broken one. A failed write (a full disk) is cut off again, so the file stays
    whole; `on_failure(message)` is told once and later events are not recorded.
    """

    def __init__(self, directory: Path, on_failure=None) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / EVENTS
        self.on_failure = on_failure
        self.failed: str | None = None
        self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        records = read_records(self.path)
        self.damaged = records.damaged
        self._size = os.fstat(self._fd).st_size
        if self._size > records.whole_bytes:
            self._set_aside(records.whole_bytes)
        self.count = len(records)  # a resumed session goes on numbering

    def _set_aside(self, whole: int) -> None:
        with open(self.path, "rb") as src, open(self.directory / f"{EVENTS}.damaged", "ab") as dst:
            src.seek(whole)
            dst.write(src.read())
            dst.flush()
            os.fsync(dst.fileno())
        os.ftruncate(self._fd, whole)
        os.fsync(self._fd)
        self._size = whole

    def write(self, event: Event) -> None:
        if isinstance(event, SKIPPED) or self._fd < 0 or self.failed:
            return
        record = {"seq": self.count, "ts": round(time.time(), 6), **event.to_dict()}
        data = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode()
        try:
            if os.write(self._fd, data) != len(data):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # a short write: the disk is full
            if not isinstance(event, OutputChunk):
                os.fsync(self._fd)
        except OSError as exc:
            try:
                os.ftruncate(self._fd, self._size)  # never leave half a record
            except OSError:
                pass
            self.failed = f"cannot write the session file {self.path}: {exc.strerror or exc}; recording stopped"
            if self.on_failure is not None:
                self.on_failure(self.failed)
            return
        self._size += len(data)
        self.count += 1

    def close(self) -> None:
        if self._fd >= 0:
            try:
                os.fsync(self._fd)
            except OSError:
                pass
            os.close(self._fd)
            self._fd = -1


def read_records(path: Path) -> Records:
    """The whole records, in order, up to the first line that is cut short (a kill) or not JSON (damage)."""
    records = Records()
    offset = 0
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.endswith(b"\n"):
                records.damaged = f"{path}:{number}: the last record was cut short (the process was killed)"
                break
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("not an object")
            except ValueError:
                records.damaged = f"{path}:{number}: not a session record (invalid JSON); read up to line {number - 1}"
                break
            records.append(record)
            offset += len(line)
    records.whole_bytes = offset
    return records


def read_events(path: Path) -> Records:
    """The events of the whole records (`damaged` as read_records says)."""
    records = read_records(events_file(path))
    if records.damaged and not records and "invalid JSON" in records.damaged:
        raise ConfigError(records.damaged.replace("; read up to line 0", ""))  # not a session file at all
    events = Records()
    events.damaged, events.whole_bytes = records.damaged, records.whole_bytes
    for record in records:
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
