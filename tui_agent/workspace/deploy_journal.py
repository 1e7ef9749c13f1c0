"""The deploy journal: what a deploy will do, written to the user's state folder before the project changes,
so that a deploy a killed process left half done is finished or rolled back at the next start."""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

STAGE_NAME = re.compile(r"\.tui-agent-staging-[0-9a-f]{12}")
# staging: only the staging folder exists (roll back); committing: past the commit point (roll forward);
# undoing: the commit failed in a live process (roll back); committed: only the clean-up is left
STATES = ("staging", "committing", "undoing", "committed")


class JournalError(ValueError):
    """A journal file that is not one of ours (never acted on)."""


def journal_dir() -> Path:
    """The user's own state folder (never the project: a cloned project could carry a forged journal)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "tui-agent" / "deploys"


def _safe_rel(rel: str) -> str:
    parts = rel.split("/")
    if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\0" in rel:
        raise JournalError(f"bad path in a deploy journal: {rel!r}")
    return rel


safe_rel = _safe_rel  # for other records of paths in the project (undo data)


@dataclass
class Journal:
    """Write i is staged as stage/w{i} (its old file kept as stage/b{i}); delete i is moved to stage/d{i}."""

    project: str
    stage: str
    writes: list = field(default_factory=list)  # [path, existed before]
    deletes: list = field(default_factory=list)  # paths
    mkdirs: list = field(default_factory=list)  # [path, mode], parents first: folders the deploy creates
    rmdirs: list = field(default_factory=list)  # [path, mode, uid, gid], deepest first: folders it empties
    state: str = "staging"
    id: str = field(default_factory=lambda: f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(4)}")
    pid: int = field(default_factory=os.getpid)

    @property
    def path(self) -> Path:
        return journal_dir() / f"{self.id}.json"

    def save(self, state: str | None = None) -> None:
        """Durably (file and folder fsynced) replace the journal with this state."""
        self.state = state or self.state
        folder = journal_dir()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = folder / f"{self.id}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            data = json.dumps(asdict(self)).encode("utf-8", "surrogateescape")
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        fsync_dir(folder)

    def discard(self) -> None:
        for path in (self.path, self.path.with_suffix(".tmp"), self.path.with_suffix(".lock")):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        fsync_dir(journal_dir())

    def lock(self) -> int:
        """Hold this deploy's lock (released when the process ends, however it ends); returns the fd."""
        journal_dir().mkdir(parents=True, exist_ok=True, mode=0o700)
        while True:
            fd = _lock_at(self.path.with_suffix(".lock"), wait=True)
            if fd is not None:
                return fd

    @classmethod
    def load(cls, path: Path) -> "Journal":
        try:
            data = json.loads(path.read_text(encoding="utf-8", errors="surrogateescape"))
            journal = cls(**data)
        except (ValueError, TypeError) as exc:
            raise JournalError(f"{path}: not a deploy journal ({exc})") from None
        if journal.state not in STATES or not STAGE_NAME.fullmatch(journal.stage) or path.stem != journal.id:
            raise JournalError(f"{path}: not a deploy journal")
        if not os.path.isabs(journal.project):
            raise JournalError(f"{path}: the project is not an absolute path")
        for rel in [w[0] for w in journal.writes] + journal.deletes + [d[0] for d in journal.mkdirs + journal.rmdirs]:
            _safe_rel(rel)
        return journal


def fsync_dir(path: Path | str | int) -> None:
    fd = path if isinstance(path, int) else os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        if not isinstance(path, int):
            os.close(fd)


def _lock_at(path: Path, wait: bool) -> int | None:
    """The fd holding an exclusive lock on `path` (made if missing); None if held elsewhere or if `path` was
    replaced or removed meanwhile (a lock on an unlinked file would protect nothing)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        st = os.fstat(fd)
        now = os.stat(path, follow_symlinks=False)
        if (st.st_ino, st.st_dev) == (now.st_ino, now.st_dev):
            return fd
    except (BlockingIOError, FileNotFoundError):
        pass
    os.close(fd)
    return None


def interrupted() -> list[tuple[Journal | None, Path, int]]:
    """Journals no live process holds: (journal or None if unreadable, its path, the held lock fd)."""
    folder = journal_dir()
    found: list[tuple[Journal | None, Path, int]] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            fd = _lock_at(path.with_suffix(".lock"), wait=False)
        except OSError:
            continue
        if fd is None:
            continue  # a deploy in progress in a live process
        if not path.exists():  # finished by another process meanwhile
            os.close(fd)
            continue
        try:
            found.append((Journal.load(path), path, fd))
        except JournalError:
            found.append((None, path, fd))
    return found


def sweep() -> None:
    """Remove what a deploy killed before its journal was whole left in the state folder (nothing of the
    project: its staging folder is only made once the journal is written)."""
    folder = journal_dir()
    for lock in folder.glob("*.lock") if folder.is_dir() else []:
        if lock.with_suffix(".json").exists():
            continue
        try:
            fd = _lock_at(lock, wait=False)
        except OSError:
            continue
        if fd is None:
            continue  # a deploy about to write its journal
        try:
            if lock.with_suffix(".json").exists():
                continue
            for path in (lock.with_suffix(".tmp"), lock):
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
        finally:
            os.close(fd)
