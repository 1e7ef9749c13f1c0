"""Filesystem helpers that never follow symlinks: lstat-only tree scans, fd-relative opens, plain tree copies."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import time
from pathlib import Path
from typing import BinaryIO, Iterator

from tui_agent.workspace.gitignore import ALWAYS_SKIP, Ignore, RuleSet

O_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
O_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
PERM = 0o777  # setuid, setgid and sticky bits are never carried over


def _is_skipped(name: str, top: bool) -> bool:
    return name in ALWAYS_SKIP or (top and name.startswith(".tui-agent-staging-"))


def scan(root: Path, ignore: Ignore | None = None, skip: frozenset[str] = frozenset()) -> dict[str, os.stat_result]:
    """lstat every entry under `root` that is not ignored (dirs included); keys are '/'-joined relative paths.

    `skip` holds relative paths pruned as well (e.g. a session folder that lives inside the project)."""
    out: dict[str, os.stat_result] = {}
    _scan(str(root), "", ignore or Ignore(), out, skip)
    return out


def _scan(path: str, rel: str, ignore: Ignore, out: dict, skip: frozenset[str]) -> None:
    try:
        entries = list(os.scandir(path))
    except OSError:
        return
    for e in entries:
        if e.name == ".gitignore" and e.is_file(follow_symlinks=False):
            rules = _rules(e)
            if rules is not None:
                ignore = ignore.push(rel, rules)
            break
    prefix = rel + "/" if rel else ""
    for e in entries:
        if _is_skipped(e.name, not rel):
            continue
        child = prefix + e.name
        if skip and child in skip:
            continue
        try:
            st = e.stat(follow_symlinks=False)
        except OSError:
            continue
        is_dir = stat.S_ISDIR(st.st_mode)
        if ignore.stack and ignore.ignored(child, is_dir):
            continue
        out[child] = st
        if is_dir:
            _scan(e.path, child, ignore, out, skip)


_RULES: dict[str, tuple[tuple, RuleSet]] = {}


def _rules(entry: os.DirEntry) -> RuleSet | None:
    """The parsed rules of a .gitignore, cached by path and lstat."""
    try:
        st = entry.stat(follow_symlinks=False)
        key = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
        hit = _RULES.get(entry.path)
        if hit is not None and hit[0] == key:
            return hit[1]
        with open(os.open(entry.path, O_READ), encoding="utf-8", errors="replace") as f:
            rules = RuleSet.parse(f.read(1 << 20))
    except OSError:
        return None
    if len(_RULES) > 4096:
        _RULES.clear()
    if time.time_ns() - st.st_mtime_ns > 50_000_000:  # too fresh: it may change again within the same tick
        _RULES[entry.path] = (key, rules)
    return rules


def open_dir(root_fd: int, parts: list[str] | tuple[str, ...], create: int | None = None,
             owner: tuple[int, int] | None = None) -> int:
    """An fd for root/parts..., refusing symlinks at every step; missing dirs made with mode `create` if given."""
    fd = os.dup(root_fd)
    try:
        for part in parts:
            if part in ("", ".", ".."):
                raise OSError(errno.EINVAL, f"bad path component {part!r}")
            try:
                nfd = os.open(part, O_DIR, dir_fd=fd)
            except FileNotFoundError:
                if create is None:
                    raise
                os.mkdir(part, create, dir_fd=fd)
                nfd = os.open(part, O_DIR, dir_fd=fd)
                if owner:
                    os.fchown(nfd, *owner)
            os.close(fd)
            fd = nfd
        return fd
    except BaseException:
        os.close(fd)
        raise


def read_regular(root: Path, rel: str, limit: int | None = None) -> tuple[bytes, os.stat_result]:
    """Read a regular file beneath root without following any symlink; OSError otherwise."""
    with _open_regular(root, rel) as (f, st):
        data = f.read() if limit is None else f.read(limit + 1)
        if limit is not None and len(data) > limit:
            raise OSError(errno.EFBIG, f"file larger than {limit} bytes: {rel}")
        return data, st


def copy_regular(root: Path, rel: str, dest: Path, mode: int) -> None:
    """Copy a regular file beneath root (no symlink followed) to `dest`, 1 MB at a time; holes stay holes."""
    tmp = dest.with_name(f".{dest.name}.tui-agent-tmp")
    with _open_regular(root, rel) as (f, _st):
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as out:
            size = 0
            while chunk := f.read(_CHUNK):
                size += len(chunk)
                if len(chunk) == _CHUNK and chunk == _ZEROS:
                    out.seek(_CHUNK, os.SEEK_CUR)
                else:
                    out.write(chunk)
            out.truncate(size)
            os.fchmod(fd, mode & 0o7777)
    os.replace(tmp, dest)


_CHUNK = 1 << 20
_ZEROS = bytes(_CHUNK)


@contextlib.contextmanager
def _open_regular(root: Path, rel: str) -> Iterator[tuple[BinaryIO, os.stat_result]]:
    parts = rel.split("/")
    rfd = os.open(root, O_DIR)
    try:
        dfd = open_dir(rfd, parts[:-1])
    finally:
        os.close(rfd)
    try:
        fd = os.open(parts[-1], O_READ, dir_fd=dfd)
    finally:
        os.close(dfd)
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, f"not a regular file: {rel}")
        yield f, st


def write_file(path: Path, data: bytes, mode: int, owner: tuple[int, int] | None = None) -> None:
    """Atomically replace `path` (never following a symlink at it) with `data`."""
    tmp = path.with_name(f".{path.name}.tui-agent-tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb", closefd=False) as f:
            f.write(data)
        os.fchmod(fd, mode & 0o7777)
        if owner:
            os.fchown(fd, *owner)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def remove(path: Path) -> None:
    """Remove a file, symlink, special file or whole directory without following symlinks."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        for e in os.scandir(path):
            remove(Path(e.path))
        os.rmdir(path)
    else:
        os.unlink(path)


def link_stays_inside(root: Path, link: Path, target: str) -> bool:
    """True if a relative symlink `link` -> `target` resolves (lexically) beneath root."""
    if os.path.isabs(target):
        return False
    resolved = os.path.normpath(os.path.join(os.path.dirname(link), target))
    root_s = os.path.normpath(str(root))
    return resolved == root_s or resolved.startswith(root_s + os.sep)


def copy_tree(src: Path, dst: Path, owner: tuple[int, int] | None = None) -> None:
    """Copy dirs, regular files and symlinks (as links) from src into dst; everything else is left out."""
    dst.mkdir(parents=True, exist_ok=True)
    for e in os.scandir(src):
        s, d = Path(e.path), dst / e.name
        st = e.stat(follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode):
            copy_tree(s, d, owner)
            os.chmod(d, st.st_mode & PERM)
        elif stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(s), d)
        elif stat.S_ISREG(st.st_mode):
            copy_regular(src, e.name, d, st.st_mode & PERM)
        else:
            continue
        if owner:
            os.lchown(d, *owner)
        elif os.geteuid() == 0:
            os.lchown(d, st.st_uid, st.st_gid)


def copy_project(project: Path, dest: Path, ignore: Ignore, skip: frozenset[str], put, owner):
    """Copy a project into an empty `dest` (lstat walk; symlinks kept only if relative and inside).

    Returns (baseline manifest of the project, {rel: sha} of what was copied, [(rel, reason)] skipped);
    `put(data, sha)` stores file contents."""
    racy_after = time.time_ns() - 50_000_000
    baseline, hints, skipped, dirs = {}, {}, [], []
    for rel, st in scan(project, ignore, skip).items():
        mode, dst = st.st_mode, dest / rel
        sha = ""
        if stat.S_ISDIR(mode):
            os.mkdir(dst, 0o700)
            dirs.append((dst, mode & PERM))
        elif stat.S_ISREG(mode):
            try:
                data, _ = read_regular(project, rel)
            except OSError:
                continue
            sha = hints[rel] = hashlib.sha256(data).hexdigest()
            put(data, sha)
            fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                os.fchmod(fd, mode & PERM)
        elif stat.S_ISLNK(mode):
            target = os.readlink(project / rel)
            sha = hashlib.sha256(os.fsencode(target)).hexdigest()
            if link_stays_inside(project, project / rel, target):
                os.symlink(target, dst)
                hints[rel] = sha
                put(os.fsencode(target), sha)
            else:
                skipped.append((rel, "symlink pointing outside the project (or absolute): not copied"))
        else:
            skipped.append((rel, "special file: not copied"))
        if owner and os.path.lexists(dst):
            os.lchown(dst, *owner)
        mtime = st.st_mtime_ns if st.st_mtime_ns < racy_after else -1
        baseline[rel] = (mode, sha, st.st_size, mtime, st.st_ctime_ns, st.st_ino)
    for dst, mode in reversed(dirs):
        os.chmod(dst, mode if os.geteuid() == 0 else mode | 0o700)
    return baseline, hints, skipped
