"""Confined file access inside the workspace: path resolution that refuses escapes, read, write, list."""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path, PurePosixPath

from tui_agent.workspace.gitignore import Ignore
from tui_agent.workspace.safefs import scan


class WorkspaceError(Exception):
    """A workspace operation was refused or failed; the message is one clear line."""


class Files:
    """A folder's files behind paths that cannot leave it: the workspace's for the agent's tools, `mcp serve`'s."""

    def __init__(self, path: Path, ignore: Ignore, *, owner: tuple[int, int] | None = None, quota_mb: int = 0) -> None:
        self.path, self.ignore, self.owner, self.quota_mb = Path(path), ignore, owner, quota_mb
        self._real = os.path.realpath(path)

    def resolve(self, rel: str) -> Path:
        """The real path of `rel` inside the workspace; WorkspaceError if it is absolute or leads outside."""
        if not isinstance(rel, str) or "\0" in rel:
            raise WorkspaceError(f"invalid path: {rel!r}")
        rel = rel or "."
        if PurePosixPath(rel).is_absolute() or rel.startswith("~"):
            raise WorkspaceError(f"absolute paths are refused (paths are relative to the workspace): {rel}")
        full = os.path.realpath(os.path.join(self._real, rel))
        if full != self._real and not full.startswith(self._real + os.sep):
            raise WorkspaceError(f"path leads outside the workspace: {rel}")
        return Path(full)

    def relative(self, rel: str) -> str | None:
        """`rel` resolved through every symlink, relative to the workspace (`s/x` -> `secrets/x`); None if outside."""
        try:
            full = self.resolve(rel)
        except WorkspaceError:
            return None
        return os.path.relpath(full, self._real).replace(os.sep, "/")

    def read_text(self, rel: str, most: int | None = None) -> str:
        """The whole file, decoded; with `most`, a WorkspaceError when it is larger than `most` bytes."""
        text, size = self.read_head(rel, most)
        if most is not None and size > most:
            raise WorkspaceError(f"{rel} is too large ({size:,} bytes; at most {most:,})")
        return text

    def read_head(self, rel: str, most: int | None) -> tuple[str, int]:
        """At most `most` bytes of a regular file (never more read), decoded, and the file's size in bytes."""
        path = self.resolve(rel)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            raise WorkspaceError(f"no such file in the workspace: {rel}") from None
        except OSError as exc:
            raise WorkspaceError(f"cannot read {rel}: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise WorkspaceError(f"not a regular file: {rel}")
            size = os.fstat(fd).st_size
            data = f.read() if most is None else f.read(most)
            return data.decode("utf-8", errors="replace"), max(size, len(data))

    def write_text(self, rel: str, content: str) -> None:
        """Create or overwrite a text file (parents created, owned by the sandbox user)."""
        path = self.resolve(rel)
        if path == Path(self._real):
            raise WorkspaceError(f"not a file path: {rel}")
        try:
            missing = []
            parent = path.parent
            while not parent.exists():
                missing.append(parent)
                parent = parent.parent
            for d in reversed(missing):
                os.mkdir(d, 0o755)
                if self.owner:
                    os.chown(d, *self.owner)
            self._replace(path, rel, content)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise WorkspaceError(f"workspace is full (quota {self.quota_mb} MB): cannot write {rel}") from None
            raise WorkspaceError(f"cannot write {rel}: {exc.strerror or exc}") from None

    def _replace(self, path: Path, rel: str, content: str) -> None:
        """Write a new file beside `path` and rename it over: a hard link to the old file keeps the old content."""
        try:
            old = os.lstat(path)
        except FileNotFoundError:
            old = None
        if old is not None and not stat.S_ISREG(old.st_mode):
            raise WorkspaceError(f"not a regular file: {rel}")
        tmp = path.with_name(f".tui-agent-{secrets.token_hex(6)}.tmp")  # short: any name's sibling fits
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                if old is not None:
                    os.fchmod(fd, stat.S_IMODE(old.st_mode))
                owner = (old.st_uid, old.st_gid) if old is not None else self.owner
                if owner:
                    os.fchown(fd, *owner)
                f.write(content)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    def list_files(self, rel: str = ".") -> list[str]:
        """Files and symlinks under `rel` (gitignored ones left out), relative to the workspace, sorted."""
        base = self.resolve(rel)
        prefix = os.path.relpath(base, self._real).replace(os.sep, "/")
        if not base.exists():
            raise WorkspaceError(f"no such folder in the workspace: {rel}")
        entries = scan(self.path, self.ignore)
        if prefix == ".":
            return sorted(r for r, st in entries.items() if not stat.S_ISDIR(st.st_mode))
        if base.is_file():
            return [prefix]
        return sorted(r for r, st in entries.items()
                      if r.startswith(prefix + "/") and not stat.S_ISDIR(st.st_mode))
